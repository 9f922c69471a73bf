"""User administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Regexp, ValidationError

from app.auth.models import Role, User
from app.extensions import db
from app.i18n import lazy_gettext as _l
from app.registry.models import Organization

ROLE_LABELS = {
    Role.COORDINATOR: _l("Coordinatore/trice della Città"),
    Role.ENTITY_OPERATOR: _l("Operatore/trice di ente"),
    Role.HOUSING_PROVIDER: _l("Gestore di alloggi"),
    Role.ADMIN: _l("Amministratore/trice di sistema"),
}


class UserForm(FlaskForm):
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[DataRequired(_l("Inserisci nome e cognome.")), Length(max=200)],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Inserisci l'indirizzo email.")),
            Email(_l("Indirizzo email non valido."), check_deliverability=False),
            Length(max=254),
        ],
    )
    role = SelectField(
        _l("Ruolo"),
        choices=[SelectChoice("", _l("Scegli un ruolo"))]
        + [SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired(_l("Scegli un ruolo."))],
    )
    organization_id = SelectField(_l("Ente"), coerce=str, validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        orgs = db.session.execute(
            select(Organization.id, Organization.name).order_by(Organization.name)
        )
        self.organization_id.choices = [
            SelectChoice("", _l("Nessun ente (personale della Città)"))
        ] + [SelectChoice(str(org_id), name) for org_id, name in orgs]

    def validate_organization_id(self, field: SelectField) -> None:
        field.data = field.data or ""
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Scegli un ente dell'elenco."))
        role = self.role.data
        if role in (Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER) and not field.data:
            raise ValidationError(_l("Per questo ruolo scegli l'ente di appartenenza."))
        if role in (Role.COORDINATOR, Role.ADMIN) and field.data:
            raise ValidationError(
                _l("Il personale della Città e gli amministratori non appartengono a un ente.")
            )

    @property
    def organization_value(self) -> int | None:
        return int(self.organization_id.data) if self.organization_id.data else None


class NewUserForm(UserForm):
    username = StringField(
        _l("Nome utente"),
        validators=[
            DataRequired(_l("Inserisci il nome utente.")),
            Length(min=3, max=64, message=_l("Il nome utente deve avere da 3 a 64 caratteri.")),
            Regexp(
                r"^[a-z0-9._-]+$",
                message=_l("Usa solo lettere minuscole, cifre, punto, trattino e trattino basso."),
            ),
        ],
    )

    def validate_username(self, field: StringField) -> None:
        taken = db.session.scalar(
            select(User.id).where(func.lower(User.username) == (field.data or "").lower())
        )
        if taken is not None:
            raise ValidationError(_l("Questo nome utente è già in uso."))
