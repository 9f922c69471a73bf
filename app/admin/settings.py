"""The portal settings an admin may change, with their bounds and defaults.

Each area reads its value with `get_setting(key, default)`; this table is what the settings page
offers. A value outside the bounds is refused by the form and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, NumberRange

from app.admin.models import get_setting, set_setting
from app.audit.operations import record
from app.i18n import lazy_gettext as _l
from app.money import ABSURD
from app.web.fields import MoneyField, WholeNumberField


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: object
    help: object
    minimum: Any
    maximum: Any
    default: Any
    money: bool = False


@cache
def setting_specs() -> tuple[SettingSpec, ...]:
    """The settings offered, in page order (imported late: the areas import the admin package)."""
    from app.households.rights_operations import DEFAULT_RETENTION_YEARS, RETENTION_SETTING
    from app.projects.finance import ENVELOPE_DEFAULTS
    from app.referrals.queries import OVERDUE_DEFAULT, OVERDUE_SETTING

    return (
        SettingSpec(
            OVERDUE_SETTING,
            _l("Giorni lavorativi prima che una segnalazione senza risposta sia in ritardo"),
            _l("Vale per le segnalazioni in attesa della Città e per quelle in attesa dell'ente."),
            1,
            60,
            OVERDUE_DEFAULT,
        ),
        *(
            SettingSpec(
                key, label, help_text, Decimal("0.00"), ABSURD, ENVELOPE_DEFAULTS[key], True
            )
            for key, label, help_text in (
                (
                    "programme_programmed",
                    _l("Importo programmato del progetto"),
                    _l("Dalla scheda del progetto PON Metro TO7.1.1.a."),
                ),
                ("programme_admitted", _l("Importo ammesso a finanziamento"), ""),
                ("programme_binding", _l("Importo giuridicamente vincolante"), ""),
                ("programme_disbursed", _l("Importo erogato"), ""),
                (
                    "programme_line_a",
                    _l("Linea A · snodi di comunità"),
                    _l("Quota dell'avviso per la linea A; la linea C riceve il resto."),
                ),
                (
                    "programme_line_b",
                    _l("Linea B · progetti individualizzati e budget di vita"),
                    _l("Quota dell'avviso per la linea B; la linea C riceve il resto."),
                ),
            )
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
    from app.projects.finance import envelope_value

    return {
        spec.key: envelope_value(spec.key) if spec.money else get_setting(spec.key, spec.default)
        for spec in setting_specs()
    }


def settings_form(formdata: Any = None) -> FlaskForm:
    """A form with one whole-number field per setting, named after its key."""

    class SettingsForm(FlaskForm):
        def validate(self, extra_validators: Any = None) -> bool:
            if not super().validate(extra_validators):
                return False
            split = (self["programme_line_a"].data or 0) + (self["programme_line_b"].data or 0)
            if split > (self["programme_programmed"].data or 0):
                self["programme_line_b"].errors.append(
                    _l("Le linee A e B insieme superano l'importo programmato.")
                )
                return False
            return True

    for spec in setting_specs():
        if spec.money:
            setattr(
                SettingsForm,
                spec.key,
                MoneyField(
                    spec.label,
                    description=spec.help,
                    validators=[InputRequired(_l("Indica un importo."))],
                ),
            )
            continue
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
        for spec in setting_specs()
        if values.get(spec.key) is not None and values[spec.key] != before[spec.key]
    }
    for key, (_old, new) in changes.items():
        set_setting(key, str(new) if isinstance(new, Decimal) else new)
    changes = {
        key: [str(v) if isinstance(v, Decimal) else v for v in pair]
        for key, pair in changes.items()
    }
    if changes:
        record("settings_changed", None, changes)
    return changes
