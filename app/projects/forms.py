"""Project forms: the project itself, goals, meetings, budget lines, increases, steps."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.projects.vocabulary import CATEGORIES, GOAL_STATUSES
from app.registry.forms import choices, no_markup
from app.web.fields import MoneyField

DATE_MESSAGE = _l("Inserisci una data valida (gg/mm/aaaa).")
NOTE_MAX = 1000
TEXT_MAX = 4000


class DayField(DateField):
    """A date (the browser sends YYYY-MM-DD), refused with the portal's Italian message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from error

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


def among_choices(message: object) -> object:
    """The value must be one of the field's choices (WTForms' own message is in English)."""

    def check(form: FlaskForm, field: Field) -> None:
        allowed = {str(value) for value, *_rest in field.choices or []}  # type: ignore[attr-defined]
        if field.data not in allowed:
            raise ValidationError(str(message))

    return check


def length(maximum: int) -> Length:
    return Length(max=maximum, message=_l("Al massimo %(max)d caratteri."))


class ProjectForm(FlaskForm):
    """A new project, or its data edited later. The view fills the choices of people and case
    workers."""

    person = SelectField(
        _l("Persona a cui è dedicato il progetto"),
        choices=[],
        validate_choice=False,
        validators=[
            DataRequired(_l("Scegli la persona.")),
            among_choices(_l("La persona indicata non fa parte del nucleo.")),
        ],
    )
    title = StringField(
        _l("Titolo del progetto"),
        validators=[DataRequired(_l("Scrivi il titolo del progetto.")), length(200), no_markup],
    )
    summary = TextAreaField(
        _l("Descrizione"),
        validators=[Optional(), length(TEXT_MAX)],
        description=_l("Il percorso concordato con la persona: bisogni, risorse, impegni."),
    )
    starts_on = DayField(_l("Inizio previsto"), validators=[Optional()])
    ends_on = DayField(_l("Fine prevista"), validators=[Optional()])
    youth = BooleanField(
        _l("Progetto per una persona giovane (18-29 anni)"),
        description=_l("Conta nella quota giovani del programma."),
    )
    case_worker = SelectField(
        _l("Operatore/trice di riferimento"),
        choices=[],
        validate_choice=False,
        validators=[
            Optional(),
            among_choices(_l("Scegli un operatore o un'operatrice del tuo ente.")),
        ],
    )

    def validate_ends_on(self, field: DayField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("La data di fine non può precedere quella di inizio."))


class NewProjectForm(IdempotencyKeyMixin, ProjectForm):
    """A new project: sent twice (a double click), it makes one project."""


class GoalForm(IdempotencyKeyMixin, FlaskForm):
    description = StringField(
        _l("Obiettivo"),
        validators=[DataRequired(_l("Descrivi l'obiettivo.")), length(500), no_markup],
    )
    target_on = DayField(_l("Da raggiungere entro"), validators=[Optional()])


class GoalStatusForm(FlaskForm):
    status = SelectField(
        _l("Stato dell'obiettivo"),
        choices=choices(GOAL_STATUSES),
        validate_choice=False,
        validators=[among_choices(_l("Scegli lo stato dell'obiettivo."))],
    )


class MeetingForm(IdempotencyKeyMixin, FlaskForm):
    held_on = DayField(_l("Data dell'incontro"), validators=[DataRequired(DATE_MESSAGE)])
    notes = TextAreaField(
        _l("Cosa è emerso"),
        validators=[DataRequired(_l("Scrivi le note dell'incontro.")), length(TEXT_MAX)],
    )
    next_steps = TextAreaField(_l("Prossimi passi"), validators=[Optional(), length(TEXT_MAX)])


class LineForm(FlaskForm):
    """A budget line as planned (a draft), or a new line after approval (the amount asked)."""

    category = SelectField(
        _l("Categoria di spesa"),
        choices=choices(CATEGORIES, _l("Scegli la categoria")),
        validate_choice=False,
        validators=[
            DataRequired(_l("Scegli la categoria della spesa.")),
            among_choices(_l("Scegli la categoria della spesa.")),
        ],
    )
    description = StringField(
        _l("Descrizione della spesa"),
        validators=[DataRequired(_l("Descrivi la spesa.")), length(300), no_markup],
    )
    supplier = StringField(_l("Fornitore"), validators=[Optional(), length(200), no_markup])
    planned = MoneyField(
        _l("Importo previsto"),
        validators=[InputRequired(_l("Indica l'importo previsto."))],
        description=_l("In euro, per esempio 1.234,56"),
    )


class NewLineForm(IdempotencyKeyMixin, LineForm):
    """A line added to the budget: sent twice, it makes one line."""


class SpendingForm(FlaskForm):
    """What has been committed and paid on an approved line. `seen_*`: the amounts the editor
    was opened with; if a colleague changed them meanwhile, the save is refused, not merged."""

    committed = MoneyField(
        _l("Impegnato"),
        validators=[InputRequired(_l("Indica l'importo impegnato (anche 0)."))],
        description=_l("In euro, entro l'importo approvato"),
    )
    committed_on = DayField(_l("Data dell'impegno"), validators=[Optional()])
    paid = MoneyField(
        _l("Pagato"),
        validators=[InputRequired(_l("Indica l'importo pagato (anche 0)."))],
        description=_l("In euro, entro l'impegnato"),
    )
    paid_on = DayField(_l("Data del pagamento"), validators=[Optional()])
    supplier = StringField(_l("Fornitore"), validators=[Optional(), length(200), no_markup])
    seen_committed = HiddenField()
    seen_paid = HiddenField()


class IncreaseForm(FlaskForm):
    amount = MoneyField(
        _l("Nuovo importo approvato richiesto"),
        validators=[InputRequired(_l("Indica il nuovo importo."))],
        description=_l("L'intero importo della voce, non la differenza"),
    )


class StepForm(FlaskForm):
    """The note of a step (required to send back or to close: the operation says so)."""

    note = TextAreaField(
        _l("Nota"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("La nota può contenere al massimo %(max)d caratteri.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token: removing a line, deciding an increase."""
