"""Referral forms: a new referral, and the small form of every action (reason and note)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.referrals.vocabulary import NEED_LABELS
from app.registry.forms import choices

MOTIVATION_MAX = 2000
NOTE_MAX = 1000


def among_choices(message: object) -> object:
    """The value must be one of the field's choices (WTForms' own message is in English)."""

    def check(form: FlaskForm, field: Field) -> None:
        allowed = {str(value) for value, *_rest in field.choices or []}  # type: ignore[attr-defined]
        if field.data not in allowed:
            raise ValidationError(str(message))

    return check


class ReferralForm(IdempotencyKeyMixin, FlaskForm):
    """A new referral; its hidden key makes a second click answer like the first."""

    person = SelectField(
        _l("Persona da inviare al servizio"),
        choices=[],
        validate_choice=False,
        validators=[
            DataRequired(_l("Scegli la persona.")),
            among_choices(_l("La persona indicata non fa parte del nucleo.")),
        ],
    )
    need = SelectField(
        _l("Bisogno"),
        choices=choices(NEED_LABELS, _l("Scegli il bisogno")),
        validate_choice=False,
        validators=[
            DataRequired(_l("Scegli il bisogno a cui il servizio deve rispondere.")),
            among_choices(_l("Scegli il bisogno a cui il servizio deve rispondere.")),
        ],
    )
    motivation = TextAreaField(
        _l("Motivazione"),
        validators=[
            DataRequired(_l("Scrivi la motivazione della segnalazione.")),
            Length(
                max=MOTIVATION_MAX,
                message=_l("La motivazione può contenere al massimo %(max)d caratteri."),
            ),
        ],
        description=_l(
            "Perché la persona ha bisogno di questo servizio: la leggono la Città e l'ente che "
            "riceve la segnalazione."
        ),
    )
    # The choices are the ranked suggestions; the view checks the value against them.
    service = RadioField(
        _l("Servizio"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Scegli un servizio tra quelli suggeriti."))],
    )


class ActionForm(FlaskForm):
    """Reason and note of a step; the operation checks which reasons the step accepts."""

    reason_code = StringField(_l("Motivo"), validators=[Optional(), Length(max=32)])
    note = TextAreaField(
        _l("Nota"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("La nota può contenere al massimo %(max)d caratteri.")),
        ],
    )


class BulkApproveForm(FlaskForm):
    """Only the CSRF token: the selected ids are read as a list by the view."""
