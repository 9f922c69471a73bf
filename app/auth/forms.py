"""Login and password forms."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from app.auth.common import is_common, strength
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.settings import get_setting


class LoginForm(FlaskForm):
    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(_l("Inserisci il nome utente.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Inserisci la password.")), Length(max=1024)]
    )


# zxcvbn's warnings, in Italian (those it gives for a weak password).
STRENGTH_WARNINGS = {
    "Straight rows of keys are easy to guess.": _l(
        "le file di tasti vicini sulla tastiera si indovinano facilmente"
    ),
    "Short keyboard patterns are easy to guess.": _l(
        "i brevi percorsi sulla tastiera si indovinano facilmente"
    ),
    'Repeats like "aaa" are easy to guess.': _l(
        "le ripetizioni come «aaa» si indovinano facilmente"
    ),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l(
        "le ripetizioni come «abcabcabc» sono poco più difficili di «abc»"
    ),
    'Sequences like "abc" or "6543" are easy to guess.': _l(
        "le sequenze come «abc» o «6543» si indovinano facilmente"
    ),
    "Recent years are easy to guess.": _l("gli anni recenti si indovinano facilmente"),
    "Dates are often easy to guess.": _l("le date si indovinano facilmente"),
    "This is a top-10 common password.": _l("è tra le 10 password più usate"),
    "This is a top-100 common password.": _l("è tra le 100 password più usate"),
    "This is a very common password.": _l("è una password molto usata"),
    "This is similar to a commonly used password.": _l("somiglia a una password molto usata"),
    "A word by itself is easy to guess.": _l("una parola da sola si indovina facilmente"),
    "Names and surnames by themselves are easy to guess.": _l(
        "nomi e cognomi da soli si indovinano facilmente"
    ),
    "Common names and surnames are easy to guess.": _l(
        "i nomi e i cognomi comuni si indovinano facilmente"
    ),
}


def _is_demo_password(password: str) -> bool:
    """The published password of the demo accounts: refused unless this is the demo."""
    demo = str(current_app.config["DEMO_PASSWORD"])
    return password.strip().casefold() == demo.casefold() and not get_setting("demo_data", False)


def _user_words() -> list[str]:
    if not current_user.is_authenticated:
        return []
    return [current_user.username, current_user.full_name, current_user.email.split("@")[0]]


def password_policy(form: FlaskForm, field: PasswordField) -> None:
    """At least PASSWORD_MIN_LENGTH characters, not a common or the demo's password, and hard
    enough to guess by zxcvbn's estimate (the user's name and the portal's words included);
    no composition rules."""
    password = field.data or ""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationError(_l("La password deve avere almeno %(n)d caratteri.", n=minimum))
    if is_common(password):
        raise ValidationError(
            _l("Questa password è tra le più usate e facili da indovinare: scegline un'altra.")
        )
    if _is_demo_password(password):
        raise ValidationError(
            _l(
                "Questa è la password pubblicata per la dimostrazione del portale: "
                "scegline un'altra."
            )
        )
    score, warning = strength(password, _user_words())
    if score < current_app.config["PASSWORD_MIN_SCORE"]:
        hint = STRENGTH_WARNINGS.get(warning)
        if hint is not None:
            raise ValidationError(
                _(
                    "Questa password si indovina troppo facilmente: %(hint)s. Usa una frase di "
                    "quattro o cinque parole non collegate tra loro, senza il tuo nome né parole "
                    "come «Torino».",
                    hint=hint,
                )
            )
        raise ValidationError(
            _(
                "Questa password si indovina troppo facilmente. Usa una frase di quattro o "
                "cinque parole non collegate tra loro, senza il tuo nome né parole come «Torino»."
            )
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
            "Almeno 12 caratteri, difficile da indovinare e diversa dalle ultime usate. Una frase "
            "di parole non collegate è più sicura di una parola complicata."
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


class SecondFactorForm(FlaskForm):
    """The login's second step: the app's code, or one of the recovery codes."""

    code = StringField(
        _l("Codice di verifica"),
        validators=[
            DataRequired(_l("Inserisci il codice di 6 cifre.")),
            Regexp(
                r"^\s*(\d{6}|[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4})\s*$",
                message=_l(
                    "Il codice è di 6 cifre; un codice di recupero è di 12 lettere e cifre."
                ),
            ),
        ],
        description=_l(
            "Il codice di 6 cifre mostrato dall'app di autenticazione. Se hai perso il telefono, "
            "inserisci uno dei codici di recupero (per esempio abcd-efgh-2345)."
        ),
    )


class RecoveryCodesForm(FlaskForm):
    codes_password = PasswordField(
        _l("Password attuale"),
        validators=[DataRequired(_l("Inserisci la password attuale.")), Length(max=1024)],
    )


class DisableTotpForm(FlaskForm):
    password = PasswordField(
        _l("Password attuale"),
        validators=[DataRequired(_l("Inserisci la password attuale.")), Length(max=1024)],
    )
