"""User administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from stdnum.it import codicefiscale
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.admin.operations import username_taken
from app.auth.models import Role, User
from app.auth.sso import normalise_fiscal_code
from app.extensions import db
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.registry.models import Organization

ROLE_LABELS = {
    Role.COORDINATOR: _l("Coordinatore/trice della Città"),
    Role.ENTITY_OPERATOR: _l("Operatore/trice di ente"),
    Role.HOUSING_PROVIDER: _l("Gestore di alloggi"),
    Role.ADMIN: _l("Amministratore/trice di sistema"),
}

REQUEST_KINDS = {
    "create": _l("creazione dell'account"),
    "update": _l("cambio di ruolo, di ente o dei dati di accesso"),
    "password_reset": _l("nuova password provvisoria"),
}
REQUEST_STATUSES = {
    "pending": _l("in attesa di conferma"),
    "confirmed": _l("confermata"),
    "refused": _l("respinta"),
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
    fiscal_code = StringField(
        _l("Codice fiscale (per l'accesso con SPID o CIE)"),
        validators=[Optional(), Length(max=22)],
        filters=[lambda value: (value or "").strip().upper() or None],
    )
    _user: User | None = None

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

    def validate_fiscal_code(self, field: StringField) -> None:
        code = normalise_fiscal_code(field.data)
        if code is None or not codicefiscale.is_valid(code):
            raise ValidationError(_l("Codice fiscale non valido: servono 16 caratteri."))
        owner = db.session.scalar(select(User.id).where(User.fiscal_code == code))
        if owner is not None and (self._user is None or owner != self._user.id):
            raise ValidationError(_l("Questo codice fiscale è già di un altro account."))
        field.data = code

    @property
    def organization_value(self) -> int | None:
        return int(self.organization_id.data) if self.organization_id.data else None


class EditUserForm(UserForm):
    def __init__(self, *args: object, user: User | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._user = user


class UnlinkForm(FlaskForm):
    """Only the CSRF token: unlinking an identity asks nothing else."""


class NewUserForm(IdempotencyKeyMixin, UserForm):
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
        if username_taken(field.data or ""):
            raise ValidationError(_l("Questo nome utente è già in uso."))


class RefusalForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo (facoltativo)"),
        validators=[Optional(), Length(max=500, message=_l("Al massimo 500 caratteri."))],
    )
