"""Housing forms: a provider's units, proposals, placement steps, follow-ups, eviction cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.households.forms import not_in_future
from app.housing.vocabulary import (
    RISK_ACTIONS,
    RISK_KINDS,
    RISK_OUTCOMES,
    TARGET_GROUPS,
    UNIT_KINDS,
    WELLBEING,
)
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.registry.forms import MultiCheckboxField, choices, circoscrizione_choices, no_markup
from app.web.fields import MoneyField, WholeNumberField, bounded_int

CAPACITY_MAX = 1000
COST_MAX = Decimal("100000")
ARREARS_MAX = Decimal("1000000")
NOTE_MAX = 1000
TEXT_MAX = 4000
MOTIVATION_MAX = 2000
TARGET_REASON_MAX = 1000  # Placement.target_reason
DATE_MESSAGE = _l("Inserisci una data valida (gg/mm/aaaa).")


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


# Units ---------------------------------------------------------------------------------------


class UnitFieldsMixin:
    name = StringField(
        _l("Nome dell'alloggio"),
        validators=[DataRequired(_l("Inserisci il nome.")), Length(max=200), no_markup],
        description=_l("Come lo riconoscono gli operatori, per esempio «Casa Aurora, camera 2»."),
    )
    kind = SelectField(
        _l("Tipologia"),
        choices=choices(UNIT_KINDS, _l("Scegli la tipologia")),
        validators=[DataRequired(_l("Scegli la tipologia."))],
    )
    address = StringField(
        _l("Indirizzo"),
        validators=[DataRequired(_l("Inserisci l'indirizzo.")), Length(max=200), no_markup],
    )
    circoscrizione = SelectField(
        _l("Circoscrizione"),
        choices=circoscrizione_choices(_l("Scegli la circoscrizione")),
        validators=[DataRequired(_l("Scegli la circoscrizione."))],
    )
    capacity = WholeNumberField(
        _l("Capienza (posti)"),
        validators=[
            InputRequired(_l("Indica quanti posti ha l'alloggio.")),
            NumberRange(1, CAPACITY_MAX, _l("La capienza va da 1 a 1000 posti.")),
        ],
    )
    target_groups = MultiCheckboxField(
        _l("Destinatari"),
        choices=choices(TARGET_GROUPS),
        description=_l("Chi può essere accolto. Nessuna scelta: tutti."),
    )
    accessible = BooleanField(_l("Accessibile a persone con disabilità motoria"))
    max_stay_days = WholeNumberField(
        _l("Permanenza massima (giorni)"),
        validators=[
            Optional(),
            NumberRange(1, 3650, _l("Da 1 a 3650 giorni; vuoto se non c'è un limite.")),
        ],
    )
    monthly_cost = MoneyField(
        _l("Costo mensile (euro)"),
        validators=[
            Optional(),
            NumberRange(0, COST_MAX, _l("Un costo tra 0 e 100.000 euro.")),
        ],
        description=_l(
            "Per esempio 450,00. Vuoto se gratuito o non previsto. Un nuovo costo vale da oggi: "
            "le permanenze dei giorni passati restano al costo di allora."
        ),
    )
    notes = TextAreaField(_l("Note"), validators=[Optional(), Length(max=TEXT_MAX)])

    def unit_values(self) -> dict[str, Any]:
        return {
            "name": (self.name.data or "").strip(),  # type: ignore[attr-defined]
            "kind": self.kind.data,  # type: ignore[attr-defined]
            "address": (self.address.data or "").strip(),  # type: ignore[attr-defined]
            "circoscrizione": int(self.circoscrizione.data),  # type: ignore[attr-defined]
            "capacity": self.capacity.data,  # type: ignore[attr-defined]
            "target_groups": list(self.target_groups.data or []),  # type: ignore[attr-defined]
            "accessible": bool(self.accessible.data),  # type: ignore[attr-defined]
            "max_stay_days": self.max_stay_days.data,  # type: ignore[attr-defined]
            "monthly_cost": self.monthly_cost.data,  # type: ignore[attr-defined]
            "notes": _text(self.notes.data),  # type: ignore[attr-defined]
        }


class NewUnitForm(UnitFieldsMixin, FlaskForm):
    vacancies = WholeNumberField(
        _l("Posti liberi ora"),
        validators=[
            InputRequired(_l("Indica quanti posti sono liberi ora (anche 0).")),
            NumberRange(0, CAPACITY_MAX, _l("I posti liberi non possono essere meno di zero.")),
        ],
    )

    def validate_vacancies(self, field: WholeNumberField) -> None:
        if field.data is not None and self.capacity.data and field.data > self.capacity.data:
            raise ValidationError(_l("I posti liberi non possono superare la capienza."))

    def values(self) -> dict[str, Any]:
        return {**self.unit_values(), "active": True, "vacancies": self.vacancies.data}


class EditUnitForm(UnitFieldsMixin, FlaskForm):
    active = BooleanField(
        _l("Alloggio attivo (compare nella bacheca)"),
        description=_l("Togli la spunta se l'alloggio non è più disponibile per la rete."),
    )
    version = HiddenField()

    def seen_version(self) -> int | None:
        return bounded_int(self.version.data)

    def values(self) -> dict[str, Any]:
        return {**self.unit_values(), "active": bool(self.active.data)}


class VacancyForm(FlaskForm):
    """The board's in-place update: the version the provider saw, and one of a +1/-1 click, a
    typed number or a confirmation. The view reads and checks the values (clear messages)."""

    version = HiddenField()
    delta = StringField()
    vacancies = StringField()
    confirm = StringField()
    back = HiddenField()


# Placements ----------------------------------------------------------------------------------


class ProposalForm(IdempotencyKeyMixin, FlaskForm):
    unit_id = StringField(validators=[DataRequired(_l("Scegli un alloggio tra quelli elencati."))])
    target_reason = TextAreaField(
        _l("Perché lo proponi anche se il nucleo non rientra tra i destinatari"),
        validators=[
            Optional(),
            Length(
                max=TARGET_REASON_MAX,
                message=_l("Il motivo può contenere al massimo %(max)d caratteri."),
            ),
        ],
        description=_l(
            "Solo se l'alloggio scelto è riservato ad altri destinatari: il motivo resta "
            "nella storia dell'inserimento."
        ),
    )
    motivation = TextAreaField(
        _l("Motivazione"),
        validators=[
            DataRequired(_l("Scrivi perché il nucleo ha bisogno di questo alloggio.")),
            Length(
                max=MOTIVATION_MAX,
                message=_l("La motivazione può contenere al massimo %(max)d caratteri."),
            ),
        ],
        description=_l(
            "La legge la Città; il gestore la vede solo dopo l'approvazione. Non scrivere "
            "codice fiscale né dati sanitari."
        ),
    )


class StepForm(FlaskForm):
    """Reason, note and date of a placement step; the operation says which ones it needs."""

    reason_code = StringField(_l("Motivo"), validators=[Optional(), Length(max=32)])
    note = TextAreaField(
        _l("Nota"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("La nota può contenere al massimo %(max)d caratteri.")),
        ],
    )
    on = DateField(_l("Data"), validators=[Optional()])


class CheckForm(FlaskForm):
    done_on = DateField(
        _l("Data della verifica"), validators=[InputRequired(DATE_MESSAGE), not_in_future]
    )
    wellbeing = SelectField(
        _l("Come sta il nucleo"),
        choices=choices(WELLBEING, _l("Scegli")),
        validators=[DataRequired(_l("Indica come sta il nucleo."))],
    )
    notes = TextAreaField(
        _l("Note della verifica"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("Cosa è emerso, cosa serve. Niente dati sanitari di dettaglio."),
    )


# Eviction prevention -------------------------------------------------------------------------


class RiskCaseForm(FlaskForm):
    kind = SelectField(
        _l("Tipo di rischio"),
        choices=choices(RISK_KINDS, _l("Scegli")),
        validators=[DataRequired(_l("Scegli il tipo di rischio."))],
    )
    arrears_amount = MoneyField(
        _l("Morosità accumulata (euro)"),
        validators=[
            Optional(),
            NumberRange(0, ARREARS_MAX, _l("Un importo tra 0 e 1.000.000 di euro.")),
        ],
        description=_l("Per esempio 3.250,00"),
    )
    notice_on = DateField(_l("Data della notifica"), validators=[Optional(), not_in_future])
    hearing_on = DateField(_l("Data dell'udienza"), validators=[Optional()])
    execution_on = DateField(_l("Data dell'esecuzione dello sfratto"), validators=[Optional()])
    actions = MultiCheckboxField(_l("Azioni avviate"), choices=choices(RISK_ACTIONS))
    notes = TextAreaField(_l("Note"), validators=[Optional(), Length(max=TEXT_MAX)])

    def values(self) -> dict[str, Any]:
        return {
            "kind": self.kind.data,
            "arrears_amount": self.arrears_amount.data,
            "notice_on": self.notice_on.data,
            "hearing_on": self.hearing_on.data,
            "execution_on": self.execution_on.data,
            "actions": list(self.actions.data or []),
            "notes": _text(self.notes.data),
        }


class CloseRiskCaseForm(FlaskForm):
    outcome = SelectField(
        _l("Esito"),
        choices=choices(RISK_OUTCOMES, _l("Scegli l'esito")),
        validators=[DataRequired(_l("Indica l'esito."))],
    )
    closed_on = DateField(
        _l("Data di chiusura"), validators=[InputRequired(DATE_MESSAGE), not_in_future]
    )
