"""The counter form: which household, at which hub, when, what and how many."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from app.clock import today
from app.distributions.operations import MAX_QUANTITY, REASON_MAX_LENGTH
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.registry.forms import choices
from app.web.fields import bounded_int

QUANTITY_MESSAGE = _l("La quantità deve essere un numero intero da 1 a 100.")
DATE_MESSAGE = _l("Inserisci una data valida (gg/mm/aaaa).")


def optional_int(value: Any) -> int | None:
    return bounded_int(value)


class QuantityField(IntegerField):
    """A whole number, with one Italian message for anything that is not one ("abc", "1,5")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = optional_int(valuelist[0])
        if self.data is None and str(valuelist[0]).strip():
            raise ValueError(str(QUANTITY_MESSAGE))

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class DayField(DateField):
    """A date (the browser sends YYYY-MM-DD), with the portal's Italian message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(DATE_MESSAGE)) from error

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class DistributionForm(IdempotencyKeyMixin, FlaskForm):
    """Each blank form has a new key: a double click records one distribution, not two."""

    household_id = HiddenField()
    site_id = SelectField(
        _l("Snodo"),
        coerce=optional_int,
        validate_choice=False,
        validators=[DataRequired(_l("Scegli lo snodo."))],
    )
    distributed_on = DayField(
        _l("Data della distribuzione"),
        default=today,
        validators=[DataRequired(DATE_MESSAGE)],
    )
    kind = SelectField(
        _l("Tipo"),
        choices=choices(DISTRIBUTION_KINDS),
        default="food_basket",
        validate_choice=False,
        validators=[DataRequired(_l("Scegli il tipo di distribuzione."))],
    )
    quantity = QuantityField(
        _l("Quantità"),
        default=1,
        validators=[
            DataRequired(QUANTITY_MESSAGE),
            NumberRange(1, MAX_QUANTITY, QUANTITY_MESSAGE),
        ],
    )
    override_reason = TextAreaField(
        _l("Motivo del secondo paniere"),
        validators=[
            Optional(),
            Length(
                max=REASON_MAX_LENGTH,
                message=_l("Il motivo può avere al massimo 500 caratteri."),
            ),
        ],
        description=_l("Perché questo nucleo riceve un altro paniere nello stesso mese."),
    )

    def validate_household_id(self, field: HiddenField) -> None:
        if not optional_int(field.data):
            raise ValidationError(_l("Scegli il nucleo: cercalo qui sopra e premi «Seleziona»."))

    def validate_site_id(self, field: SelectField) -> None:
        allowed = {choice.value for choice in field.choices}  # type: ignore[union-attr]
        if field.data not in allowed:
            raise ValidationError(_l("Scegli uno degli snodi del tuo ente."))

    def validate_distributed_on(self, field: DateField) -> None:
        if field.data and field.data > today():
            raise ValidationError(_l("La data non può essere nel futuro."))

    def validate_kind(self, field: SelectField) -> None:
        if field.data not in DISTRIBUTION_KINDS:
            raise ValidationError(_l("Scegli il tipo di distribuzione."))
