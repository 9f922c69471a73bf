"""The portal settings an admin may change, with their bounds and defaults.

Each area reads its value with `get_setting(key, default)`; this table is what the settings page
offers. A value outside the bounds is refused by the form and never stored.

The programme's four figures follow the life of an EU-funded project, each stage within the one
before: what is disbursed (erogato) was legally committed first (giuridicamente vincolante), what is
committed was admitted to funding (ammesso), what is admitted was programmed (programmato). So
erogato ≤ vincolante ≤ ammesso ≤ programmato, and lines A and B together fit in the programmed
amount (line C receives the rest). A figure out of this order is refused next to the field the admin
changed (or, when both or neither changed, next to the one that is too high).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, NumberRange

from app.admin.models import get_setting, set_setting
from app.audit.operations import record
from app.i18n import gettext as _
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


Message = Callable[[str], str]


def _envelope_order() -> tuple[tuple[str, str, Message, Message], ...]:
    """(lower, upper, message next to the lower, message next to the upper): lower <= upper."""
    return (
        (
            "programme_disbursed",
            "programme_binding",
            lambda limit: _(
                "L'importo erogato non può superare quello giuridicamente vincolante "
                "(%(limit)s): si eroga solo quanto è già impegnato.",
                limit=limit,
            ),
            lambda limit: _(
                "L'importo giuridicamente vincolante non può essere inferiore a quello "
                "erogato (%(limit)s).",
                limit=limit,
            ),
        ),
        (
            "programme_binding",
            "programme_admitted",
            lambda limit: _(
                "L'importo giuridicamente vincolante non può superare quello ammesso a "
                "finanziamento (%(limit)s).",
                limit=limit,
            ),
            lambda limit: _(
                "L'importo ammesso a finanziamento non può essere inferiore a quello "
                "giuridicamente vincolante (%(limit)s).",
                limit=limit,
            ),
        ),
        (
            "programme_admitted",
            "programme_programmed",
            lambda limit: _(
                "L'importo ammesso a finanziamento non può superare quello programmato "
                "(%(limit)s).",
                limit=limit,
            ),
            lambda limit: _(
                "L'importo programmato non può essere inferiore a quello ammesso a "
                "finanziamento (%(limit)s).",
                limit=limit,
            ),
        ),
    )


def envelope_errors(values: dict[str, Any], before: dict[str, Any]) -> dict[str, list[str]]:
    """The figures out of order, as messages by field: erogato ≤ vincolante ≤ ammesso ≤
    programmato, lines A + B ≤ programmato. The message goes next to the figure the admin
    changed; when both or neither changed, next to the one that is too high."""
    from app.web.formatting import format_money

    errors: dict[str, list[str]] = {}

    def changed(key: str) -> bool:
        return bool(values[key] != before.get(key))

    for lower, upper, too_high, too_low in _envelope_order():
        if values[lower] is None or values[upper] is None or values[lower] <= values[upper]:
            continue
        if changed(upper) and not changed(lower):
            errors.setdefault(upper, []).append(too_low(format_money(values[lower])))
        else:
            errors.setdefault(lower, []).append(too_high(format_money(values[upper])))
    a, b, programmed = (
        values["programme_line_a"],
        values["programme_line_b"],
        values["programme_programmed"],
    )
    if None not in (a, b, programmed) and a + b > programmed:
        lines_changed = changed("programme_line_a") or changed("programme_line_b")
        if changed("programme_programmed") and not lines_changed:
            errors.setdefault("programme_programmed", []).append(
                _(
                    "L'importo programmato non può essere inferiore alle linee A e B insieme "
                    "(%(limit)s).",
                    limit=format_money(a + b),
                )
            )
        else:
            errors.setdefault("programme_line_b", []).append(
                _("Le linee A e B insieme superano l'importo programmato.")
            )
    return errors


def _stall_specs() -> tuple[SettingSpec, ...]:
    """Each waiting step of a referral: late after N working days, back to the sender after M."""
    from app.referrals.queries import STALL_STEPS

    steps = {step.code: step for step in STALL_STEPS}
    texts = {
        "no_approval": (
            _l("Approvazione della Città: giorni lavorativi prima che una segnalazione sia in "
               "ritardo"),
            _l("Approvazione della Città: giorni lavorativi prima che la segnalazione scada e "
               "torni all'ente inviante"),
        ),
        "no_answer": (
            _l("Risposta dell'ente: giorni lavorativi prima che una segnalazione approvata sia "
               "in ritardo"),
            _l("Risposta dell'ente: giorni lavorativi prima che la segnalazione scada e torni "
               "all'ente inviante"),
        ),
        "no_outcome": (
            _l("Avvio o esito dopo l'accettazione: giorni lavorativi prima che sia in ritardo"),
            _l("Avvio o esito dopo l'accettazione: giorni lavorativi prima che la segnalazione "
               "scada e torni all'ente inviante"),
        ),
    }  # fmt: skip
    late_help = _l("L'ente inviante, la Città e chi deve rispondere ricevono un avviso.")
    expire_help = _l("Deve essere maggiore del limite di ritardo dello stesso passaggio.")
    specs: list[SettingSpec] = []
    for code, (late_label, expire_label) in texts.items():
        step = steps[code]
        specs.append(
            SettingSpec(step.late_setting, late_label, late_help, 1, 60, step.late_default)
        )
        specs.append(
            SettingSpec(step.expire_setting, expire_label, expire_help, 2, 250, step.expire_default)
        )
    return tuple(specs)


def stall_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """A step's expiry must come after its late limit: the message goes next to the expiry."""
    from app.referrals.queries import STALL_STEPS

    errors: dict[str, list[str]] = {}
    for step in STALL_STEPS:
        late, expire = values.get(step.late_setting), values.get(step.expire_setting)
        if isinstance(late, int) and isinstance(expire, int) and expire <= late:
            errors[step.expire_setting] = [
                _(
                    "La scadenza deve venire dopo il ritardo: indica più di %(days)s giorni.",
                    days=late,
                )
            ]
    return errors


@cache
def setting_specs() -> tuple[SettingSpec, ...]:
    """The settings offered, in page order (imported late: the areas import the admin package)."""
    from app.households.disclosures import LIMIT_DEFAULT, LIMIT_SETTING
    from app.projects.finance import ENVELOPE_DEFAULTS
    from app.rights.operations import DEFAULT_RETENTION_YEARS, RETENTION_SETTING
    from app.supplies.operations import SHORTAGE_DEFAULT, SHORTAGE_SETTING

    return (
        *_stall_specs(),
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
        SettingSpec(
            LIMIT_SETTING,
            _l("Risposte «già seguita da» per utente in un'ora"),
            _l(
                "Quante volte in un'ora un operatore può sapere dal modulo di presa in carico "
                "che una persona è seguita da un altro ente; a metà la Città riceve un avviso."
            ),
            2,
            500,
            LIMIT_DEFAULT,
        ),
        SettingSpec(
            SHORTAGE_SETTING,
            _l("Giorni di copertura sotto cui uno snodo ha le scorte basse"),
            _l(
                "Disponibile diviso la distribuzione media giornaliera delle ultime 4 settimane: "
                "sotto questa soglia lo snodo e la Città ricevono un avviso."
            ),
            1,
            60,
            SHORTAGE_DEFAULT,
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
            money = [spec.key for spec in setting_specs() if spec.money]
            errors = envelope_errors({key: self[key].data for key in money}, current_values())
            errors.update(stall_errors({spec.key: self[spec.key].data for spec in setting_specs()}))
            for key, messages in errors.items():
                self[key].errors.extend(messages)
            return not errors

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
