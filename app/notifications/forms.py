"""The user's choice of e-mail for notifications."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app.i18n import lazy_gettext as _l

CHOICES = [
    SelectChoice("immediate", _l("Subito, a ogni richiesta")),
    SelectChoice("digest", _l("Un riepilogo al giorno")),
    SelectChoice("none", _l("Nessuna e-mail (solo le notifiche nel portale)")),
]


class EmailPreferenceForm(FlaskForm):
    email_notifications = RadioField(
        _l("E-mail per le richieste che ti aspettano"),
        choices=CHOICES,
        validators=[InputRequired(_l("Scegli come vuoi essere avvisato."))],
    )
