"""The supply forms: a delivery note with its lines, an adjustment, an item of the City."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.clock import today
from app.distributions.forms import DATE_MESSAGE, DayField, optional_int
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.registry.forms import choices
from app.supplies.operations import MAX_LINE_QUANTITY, NOTE_MAX_LENGTH
from app.supplies.vocabulary import OUTGOING_REASONS, REASONS
from app.web.fields import WholeNumberField, no_control_characters

LINES = 4
LINE_QUANTITY_MESSAGE = _l("Scrivi una quantità da 1 a 100.000.")


def _hub_choice_check(form: Any, field: SelectField) -> None:
    allowed = {choice.value for choice in field.choices if choice.value != ""}  # type: ignore[union-attr]
    if field.data not in allowed:
        raise ValidationError(str(_l("Scegli uno degli snodi del tuo ente.")))


class DeliveryLineForm(Form):
    """One line of the note: what and how many (an empty line is skipped)."""

    item_id = SelectField(_l("Articolo"), coerce=optional_int, validate_choice=False)
    quantity = WholeNumberField(
        _l("Quantità"),
        validators=[Optional(), NumberRange(1, MAX_LINE_QUANTITY, LINE_QUANTITY_MESSAGE)],
    )

    def validate_item_id(self, field: SelectField) -> None:
        allowed = {c.value for c in field.choices if c.value != ""}  # type: ignore[union-attr]
        if field.data is None:
            if self.quantity.data:
                raise ValidationError(str(_l("Scegli l'articolo di questa riga.")))
            return
        if field.data not in allowed:
            raise ValidationError(str(_l("Scegli uno degli articoli dell'elenco.")))

    def validate_quantity(self, field: WholeNumberField) -> None:
        if self.item_id.data and not field.data and not field.errors:
            raise ValidationError(str(LINE_QUANTITY_MESSAGE))


class DeliveryForm(IdempotencyKeyMixin, FlaskForm):
    site_id = SelectField(
        _l("Snodo"),
        coerce=optional_int,
        validate_choice=False,
        validators=[DataRequired(_l("Scegli lo snodo."))],
    )
    note_number = StringField(
        _l("Numero del documento di trasporto"),
        validators=[
            DataRequired(_l("Indica il numero del documento di trasporto.")),
            Length(max=40, message=_l("Il numero può avere al massimo 40 caratteri.")),
            no_control_characters(),
        ],
    )
    delivered_on = DayField(
        _l("Data di consegna"), default=today, validators=[DataRequired(DATE_MESSAGE)]
    )
    lines = FieldList(FormField(DeliveryLineForm), min_entries=LINES, max_entries=LINES)

    def validate_site_id(self, field: SelectField) -> None:
        _hub_choice_check(self, field)

    def validate_delivered_on(self, field: DayField) -> None:
        if field.data and field.data > today():
            raise ValidationError(str(_l("La data non può essere nel futuro.")))

    def validate_lines(self, field: FieldList) -> None:
        if not any(line.item_id.data and line.quantity.data for line in field):
            raise ValidationError(str(_l("Aggiungi almeno una riga con articolo e quantità.")))


class AdjustmentForm(IdempotencyKeyMixin, FlaskForm):
    site_id = SelectField(
        _l("Snodo"),
        coerce=optional_int,
        validate_choice=False,
        validators=[DataRequired(_l("Scegli lo snodo."))],
    )
    item_id = SelectField(
        _l("Articolo"),
        coerce=optional_int,
        validate_choice=False,
        validators=[DataRequired(_l("Scegli l'articolo."))],
    )
    reason = SelectField(
        _l("Motivo"),
        choices=choices(REASONS, _l("Scegli il motivo")),
        validate_choice=False,
        validators=[DataRequired(_l("Scegli il motivo della rettifica."))],
    )
    quantity = WholeNumberField(
        _l("Variazione"),
        description=_l(
            "Con il segno: -3 per tre pezzi in meno, 2 per due in più (solo per la rettifica "
            "inventario)."
        ),
        validators=[
            InputRequired(_l("Scrivi la variazione, per esempio -3.")),
            NumberRange(-MAX_LINE_QUANTITY, MAX_LINE_QUANTITY, _l("Scrivi un numero intero.")),
        ],
    )
    to_site_id = SelectField(
        _l("Snodo che riceve la merce"),
        coerce=optional_int,
        validate_choice=False,
        description=_l("Solo per «trasferito ad altro snodo»."),
    )
    occurred_on = DayField(_l("Data"), default=today, validators=[DataRequired(DATE_MESSAGE)])
    note = TextAreaField(
        _l("Nota"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX_LENGTH, message=_l("La nota può avere al massimo 300 caratteri.")),
        ],
    )

    def validate_site_id(self, field: SelectField) -> None:
        _hub_choice_check(self, field)

    def validate_item_id(self, field: SelectField) -> None:
        allowed = {c.value for c in field.choices if c.value != ""}  # type: ignore[union-attr]
        if field.data not in allowed:
            raise ValidationError(str(_l("Scegli uno degli articoli dell'elenco.")))

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in REASONS:
            raise ValidationError(str(_l("Scegli il motivo della rettifica.")))

    def validate_quantity(self, field: WholeNumberField) -> None:
        if field.data == 0:
            raise ValidationError(str(_l("La variazione non può essere zero.")))
        if field.data and field.data > 0 and self.reason.data in OUTGOING_REASONS:
            raise ValidationError(
                str(
                    _l(
                        "Per merce danneggiata, scaduta o trasferita indica una quantità "
                        "negativa (es. -3)."
                    )
                )
            )

    def validate_to_site_id(self, field: SelectField) -> None:
        if self.reason.data != "transferred":
            return
        allowed = {c.value for c in field.choices if c.value != ""}  # type: ignore[union-attr]
        if field.data not in allowed or field.data == self.site_id.data:
            raise ValidationError(str(_l("Scegli lo snodo che riceve la merce.")))

    def validate_occurred_on(self, field: DayField) -> None:
        if field.data and field.data > today():
            raise ValidationError(str(_l("La data non può essere nel futuro.")))


class ItemForm(IdempotencyKeyMixin, FlaskForm):
    name = StringField(
        _l("Nome dell'articolo"),
        description=_l("Per esempio «kit igiene neonati» o «prodotti per la pulizia»."),
        validators=[
            DataRequired(_l("Scrivi il nome dell'articolo.")),
            Length(max=120, message=_l("Il nome può avere al massimo 120 caratteri.")),
            no_control_characters(),
        ],
    )
