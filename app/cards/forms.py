"""The card's forms: the hub that issues it, and the revocation (with or without a new card)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.cards.operations import NOTE_MAX_LENGTH
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin

REVOKE_LABELS = {
    "lost": _l("smarrita"),
    "stolen": _l("rubata"),
    "damaged": _l("danneggiata"),
    "other": _l("altro motivo"),
}


def _site(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


class IssueForm(IdempotencyKeyMixin, FlaskForm):
    site_id = SelectField(
        _l("Snodo che emette la tessera"),
        coerce=_site,
        validate_choice=False,
        validators=[DataRequired(_l("Scegli lo snodo."))],
    )

    def validate_site_id(self, field: SelectField) -> None:
        if field.data not in {choice.value for choice in field.choices}:  # type: ignore[union-attr]
            raise ValidationError(_l("Scegli lo snodo."))


class RevokeForm(FlaskForm):
    site_id = SelectField(
        _l("Snodo che emette la nuova tessera"),
        coerce=_site,
        validate_choice=False,
        validators=[Optional()],
    )
    reason = SelectField(
        _l("Motivo della revoca"),
        choices=[
            SelectChoice("", _l("Scegli il motivo")),
            *(SelectChoice(code, label) for code, label in REVOKE_LABELS.items()),
        ],
        validate_choice=False,
        validators=[DataRequired(_l("Scegli il motivo della revoca."))],
    )
    note = TextAreaField(
        _l("Nota"),
        validators=[Length(max=NOTE_MAX_LENGTH, message=_l("Al massimo 500 caratteri."))],
        description=_l("Obbligatoria se il motivo è «altro motivo»."),
    )

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in REVOKE_LABELS:
            raise ValidationError(_l("Scegli il motivo della revoca."))

    def validate_note(self, field: TextAreaField) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Scrivi il motivo della revoca."))
