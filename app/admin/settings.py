"""The portal settings an admin may change, with their bounds and defaults.

Each area reads its value with `get_setting(key, default)`; this table is what the settings page
offers. A value outside the bounds is refused by the form and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, NumberRange

from app.admin.models import get_setting, set_setting
from app.audit.operations import record
from app.households.rights_operations import DEFAULT_RETENTION_YEARS, RETENTION_SETTING
from app.referrals.queries import OVERDUE_DEFAULT, OVERDUE_SETTING
from app.web.fields import WholeNumberField


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: object
    help: object
    minimum: int
    maximum: int
    default: int


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        OVERDUE_SETTING,
        _l("Giorni lavorativi prima che una segnalazione senza risposta sia in ritardo"),
        _l("Vale per le segnalazioni in attesa della Città e per quelle in attesa dell'ente."),
        1,
        60,
        OVERDUE_DEFAULT,
    ),
    SettingSpec(
        RETENTION_SETTING,
        _l("Anni di conservazione dei dati di un nucleo chiuso"),
        _l("Trascorso questo periodo dalla chiusura, il nucleo si può anonimizzare."),
        1,
        30,
        DEFAULT_RETENTION_YEARS,
    ),
)


def current_values() -> dict[str, Any]:
    return {spec.key: get_setting(spec.key, spec.default) for spec in SETTINGS}


def settings_form(formdata: Any = None) -> FlaskForm:
    """A form with one whole-number field per setting, named after its key."""

    class SettingsForm(FlaskForm):
        pass

    for spec in SETTINGS:
        setattr(
            SettingsForm,
            spec.key,
            WholeNumberField(
                spec.label,
                description=spec.help,
                validators=[
                    InputRequired(_l("Indica un valore.")),
                    NumberRange(
                        spec.minimum,
                        spec.maximum,
                        _l("Scegli un valore tra %(min)s e %(max)s."),
                    ),
                ],
            ),
        )
    if formdata is None:
        return SettingsForm(data=current_values())
    return SettingsForm()


def save(values: dict[str, int]) -> dict[str, list[Any]]:
    """Store the changed values and audit them in the same transaction."""
    before = current_values()
    changes = {
        spec.key: [before[spec.key], values[spec.key]]
        for spec in SETTINGS
        if values.get(spec.key) is not None and values[spec.key] != before[spec.key]
    }
    for key, (_old, new) in changes.items():
        set_setting(key, new)
    if changes:
        record("settings_changed", None, changes)
    return changes
