"""Login and password forms."""

from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from app.auth.common import is_common
from app.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(_l("Inserisci il nome utente.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Inserisci la password.")), Length(max=1024)]
    )


def password_policy(form: FlaskForm, field: PasswordField) -> None:
    """At least PASSWORD_MIN_LENGTH characters and not a common password; no composition rules."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_l("La password deve avere almeno %(n)d caratteri.", n=minimum))
    if is_common(field.data or ""):
        raise ValidationError(
            _l("Questa password è tra le più usate e facili da indovinare: scegline un'altra.")
        )


class NewPasswordMixin:
    new_password = PasswordField(
        _l("Nuova password"),
        validators=[
            DataRequired(_l("Inserisci la nuova password.")),
            Length(max=1024),
            password_policy,
        ],
        description=_l(
            "Almeno 12 caratteri. Una frase lunga è più sicura di una parola complicata."
        ),
    )
    confirm_password = PasswordField(
        _l("Ripeti la nuova password"),
        validators=[
            DataRequired(_l("Ripeti la nuova password.")),
            EqualTo("new_password", _l("Le due password non coincidono.")),
        ],
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Password attuale"),
        validators=[DataRequired(_l("Inserisci la password attuale.")), Length(max=1024)],
    )


class TotpCodeForm(FlaskForm):
    code = StringField(
        _l("Codice di verifica"),
        validators=[
            DataRequired(_l("Inserisci il codice di 6 cifre.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("Il codice è di 6 cifre.")),
        ],
        description=_l("Il codice di 6 cifre mostrato dall'app di autenticazione."),
    )


class DisableTotpForm(FlaskForm):
    password = PasswordField(
        _l("Password attuale"),
        validators=[DataRequired(_l("Inserisci la password attuale.")), Length(max=1024)],
    )
