"""Login and password forms."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError


class LoginForm(FlaskForm):
    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(_l("Inserisci il nome utente.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Inserisci la password.")), Length(max=1024)]
    )


def password_policy(form: FlaskForm, field: PasswordField) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_l("La password deve avere almeno %(n)d caratteri.", n=minimum))


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
