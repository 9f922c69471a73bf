"""The report's filters: a GET form (the filters live in the URL, so a report can be bookmarked).

Missing filters take their defaults (the last full quarter, the whole city, every action line);
a filter that is present but wrong (a period ending before it starts, an unknown circoscrizione)
is a message next to the field, never a silent guess.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, Field, SelectField
from wtforms.validators import StopValidation, ValidationError

from app.i18n import lazy_gettext as _l
from app.registry.models import CIRCOSCRIZIONI
from app.reports.queries import ACTION_LINES, ReportFilters, last_full_quarter

DATE_MESSAGE = _l("Inserisci una data valida (gg/mm/aaaa).")
# Dates the report can work with (a birth-date bound 30 years back must stay a valid date).
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PeriodDayField(DateField):
    """A date of the period (the browser sends YYYY-MM-DD). Absent from the URL: the default;
    present but empty or malformed: an Italian message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return  # not in the URL: keep the default
        if not str(valuelist[0]).strip():
            self.data = None
            raise ValueError(str(_l("Inserisci la data.")))
        try:
            super().process_formdata([str(valuelist[0]).strip()[:10]])
        except ValueError as error:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from error

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation(str(_l("Inserisci la data.")))
        if not EARLIEST <= self.data <= LATEST:
            raise StopValidation(str(_l("Scegli una data tra il 2000 e il 2100.")))


def _circ_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Tutta la città")))] + [
        (str(number), f"{number} · {name}") for number, name in CIRCOSCRIZIONI.items()
    ]


def _line_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Tutte le linee")))] + [
        (code, f"{code} · {label}") for code, label in ACTION_LINES.items()
    ]


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    dal = PeriodDayField(_l("Dal"))
    al = PeriodDayField(_l("Al"))
    circ = SelectField(_l("Circoscrizione"), validate_choice=False, default="")
    linea = SelectField(_l("Linea di azione"), validate_choice=False, default="")

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        start, end = last_full_quarter(today)
        kwargs.setdefault("dal", start)
        kwargs.setdefault("al", end)
        super().__init__(*args, **kwargs)
        self.circ.choices = _circ_choices()  # type: ignore[assignment]
        self.linea.choices = _line_choices()  # type: ignore[assignment]

    def validate_al(self, field: Field) -> None:
        if self.dal.data and field.data and field.data < self.dal.data:
            raise ValidationError(
                str(_l("La data finale viene prima di quella iniziale: correggi il periodo."))
            )

    def validate_circ(self, field: Field) -> None:
        if (field.data or "") not in {"", *(str(n) for n in CIRCOSCRIZIONI)}:
            raise ValidationError(str(_l("Scegli una circoscrizione da 1 a 8, o tutta la città.")))

    def validate_linea(self, field: Field) -> None:
        if (field.data or "") not in {"", *ACTION_LINES}:
            raise ValidationError(str(_l("Scegli la linea A, B o C, oppure tutte le linee.")))

    def filters(self) -> ReportFilters:
        """The validated filters (call after validate())."""
        return ReportFilters(
            start=self.dal.data,
            end=self.al.data,
            circ=int(self.circ.data) if self.circ.data else None,
            line=self.linea.data or None,
        )
