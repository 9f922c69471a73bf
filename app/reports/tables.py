"""The report as tables: the same tables feed the page (each after its chart) and the exports,
so a figure cannot differ between screen, CSV and XLSX, and suppression happens in one place.

Cells that count people or households (and referrals, placements, projects, distributions: each
one is about one person or household) are built as `Count`s, and each section declares how they
add up (`Sum`: a row or column and its total, or two tables counting the same things). Then
app.exports.protect hides them once for page, CSV and XLSX alike: 1..4 becomes "<5" (primary),
and in every relation that would let a reader work a hidden count out by subtraction one more
cell becomes "n.d." (secondary: the smallest other count, else the total). Zeros are shown: a
zero is about nobody, and the vocabulary's rows are all listed so that an absent row is not an
answer. Money, housing units, places and percentages of places are not suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup

from app.auth.models import User
from app.exports import PRIMARY, SECONDARY, Count, Sum, protect
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.housing.vocabulary import EXIT_REASONS, UNIT_KINDS
from app.housing.vocabulary import PLACEMENT_STATUSES as PLACEMENT_LABELS
from app.i18n import gettext as _
from app.projects import finance
from app.projects.vocabulary import CATEGORIES
from app.projects.vocabulary import STATUSES as PROJECT_LABELS
from app.referrals.vocabulary import OUTCOMES_COMPLETED, OUTCOMES_FAILED
from app.referrals.vocabulary import STATUSES as REFERRAL_LABELS
from app.registry.models import CIRCOSCRIZIONI
from app.registry.vocabulary import SERVICE_TYPES
from app.reports import queries
from app.reports.charts import Bar, bar_chart
from app.reports.queries import ACTION_LINES, ReportFilters
from app.web.formatting import format_money, format_number

HIDDEN = (PRIMARY, SECONDARY)
HUB_CHART_MAX = 15  # the chart shows the most active hubs; the table lists them all
Cell = int | float | Decimal | str | Count | None


# Cells ----------------------------------------------------------------------------------------


def people(count: int | None) -> Count:
    """A count of people or households: published once `_publish` has protected its table."""
    return Count(count or 0)


def _column(rows: Sequence[Sequence[Cell]], index: int) -> list[Count]:
    return [row[index] for row in rows if isinstance(row[index], Count)]


def _sums_down(table: Table, columns: Iterable[int]) -> list[Sum]:
    """Each column of counts adds up to the footer's cell."""
    footer = table.footer or []
    return [Sum(footer[index], _column(table.rows, index)) for index in columns]


def _publish(tables: Iterable[Table], sums: Sequence[Sum]) -> None:
    """Suppression of every count of these tables at once (app.exports.protect), then each
    count replaced by what may be published: its value, "<5" or "n.d."."""
    tables = list(tables)
    counts = [
        value
        for table in tables
        for row in table.all_rows()
        for value in row
        if isinstance(value, Count)
    ]
    protect(counts, sums)
    for table in tables:
        for row in table.all_rows():
            row[:] = [value.published if isinstance(value, Count) else value for value in row]


def display(value: Cell) -> str:
    """A cell as the page shows it: counts and days the Italian way, money in euro."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0", locale="it_IT")
    return format_number(value)


def share(part: int | Decimal, whole: int | Decimal) -> float | None:
    """A percentage with one decimal; None when there is no whole."""
    return round(float(100 * part / whole), 1) if whole else None


def sentence(label: object) -> str:
    """A vocabulary label as a row heading: its first letter in capitals."""
    text = str(label)
    return text[:1].upper() + text[1:]


def circ_label(number: int) -> str:
    return f"{number} · {CIRCOSCRIZIONI[number]}"


@dataclass
class Table:
    key: str  # the HTML id and the chart's id
    sheet: str  # the XLSX sheet title (31 characters at most)
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    footer: list[Cell] | None = None
    chart: Markup = field(default_factory=lambda: Markup(""))
    note: str | None = None

    def all_rows(self) -> list[list[Cell]]:
        return self.rows + ([self.footer] if self.footer else [])

    @property
    def numeric(self) -> list[bool]:
        """Per column: does it hold figures (aligned right) rather than words?"""
        return [
            index > 0
            and all(not isinstance(row[index], str) or row[index] in HIDDEN for row in self.rows)
            for index in range(len(self.columns))
        ]


@dataclass
class Section:
    key: str
    title: str
    intro: str
    tables: list[Table]


@dataclass
class Report:
    filters: ReportFilters
    sections: list[Section]

    def tables(self) -> Iterable[tuple[Section, Table]]:
        for section in self.sections:
            for table in section.tables:
                yield section, table


def _chart(
    table: Table,
    with_charts: bool,
    title: str,
    bars: Sequence[Bar],
    description: str | None = None,
    scale_max: float | None = None,
) -> None:
    if not with_charts or not bars:
        return
    table.chart = bar_chart(
        f"chart-{table.key}",
        title,
        description
        or _(
            "Grafico a barre orizzontali, %(n)d voci. I dati sono nella tabella che segue.",
            n=len(bars),
        ),
        bars,
        scale_max,
    )


def _percent_bars(rows: Sequence[Sequence[Cell]], column: int) -> list[Bar]:
    return [
        Bar(
            str(row[0]),
            row[column],
            display(row[column]) + (" %" if row[column] is not None else ""),
        )
        for row in rows
    ]


def _count_bars(rows: Sequence[Sequence[Cell]], column: int = 1) -> list[Bar]:
    return [Bar(str(row[0]), row[column], display(row[column])) for row in rows]


def _coded_rows(
    counts: dict[str, int], labels: dict[str, Any], keys: Iterable[str] | None = None
) -> list[list[Cell]]:
    """One row per code of the vocabulary (zeros included: nothing is an answer), then any code
    found in the data that the vocabulary does not know."""
    wanted = list(keys if keys is not None else labels)
    wanted += [code for code in counts if code not in wanted]
    return [
        [sentence(labels.get(code, code or _("non indicato"))), people(counts.get(code, 0))]
        for code in wanted
    ]


# Sections -------------------------------------------------------------------------------------


def _reach(user: User, filters: ReportFilters, with_charts: bool) -> Section:
    households = queries.households_reached(user, filters)
    young = queries.young_people_reached(user, filters)
    districts = [filters.circ] if filters.circ else list(CIRCOSCRIZIONI)
    columns = [_("Circoscrizione"), _("Nuclei raggiunti")]
    if young is not None:
        columns.append(_("Giovani 18-29 raggiunti"))
    rows: list[list[Cell]] = []
    for number in districts:
        row: list[Cell] = [circ_label(number), people(households.get(number, 0))]
        if young is not None:
            row.append(people(young.get(number, 0)))
        rows.append(row)
    footer: list[Cell] | None = None
    if len(districts) > 1:
        footer = [_("Totale"), people(sum(households.values()))]
        if young is not None:
            footer.append(people(sum(young.values())))
    sources = {
        None: _(
            "Nuclei con almeno una distribuzione, una segnalazione inviata, un progetto approvato"
            " o una permanenza in alloggio nel periodo; giovani di 18-29 anni segnalati o"
            " destinatari di un progetto."
        ),
        "A": _(
            "Nuclei con almeno una distribuzione o una segnalazione inviata nel periodo; giovani"
            " di 18-29 anni segnalati."
        ),
        "B": _(
            "Nuclei con un progetto approvato in corso nel periodo; giovani di 18-29 anni"
            " destinatari di un progetto."
        ),
        "C": _("Nuclei in alloggio (ingresso registrato) in qualche giorno del periodo."),
    }
    table = Table(
        "reach",
        _("Nuclei raggiunti"),
        _("Nuclei familiari e giovani raggiunti, per circoscrizione del nucleo"),
        columns,
        rows,
        footer,
        note=sources[filters.line],
    )
    _publish([table], _sums_down(table, range(1, len(columns))) if footer else [])
    _chart(table, with_charts, _("Nuclei raggiunti per circoscrizione"), _count_bars(rows))
    return Section(
        "reach",
        _("Persone e nuclei raggiunti"),
        _("Ogni nucleo e ogni persona sono contati una volta sola, anche se raggiunti più volte."),
        [table],
    )


def _distributions(user: User, filters: ReportFilters, with_charts: bool) -> Section:
    hubs = queries.distributions_by_hub(user, filters)
    kinds = list(DISTRIBUTION_KINDS)
    columns = [
        _("Snodo"),
        _("Ente"),
        _("Circoscrizione"),
        *[sentence(DISTRIBUTION_KINDS[kind]) for kind in kinds],
        _("Totale distribuzioni"),
        _("Nuclei serviti"),
    ]
    rows: list[list[Cell]] = [
        [
            hub.hub,
            hub.organization,
            hub.circoscrizione,
            *[people(hub.by_kind.get(kind, 0)) for kind in kinds],
            people(hub.total),
            people(hub.households),
        ]
        for hub in hubs
    ]
    footer: list[Cell] | None = None
    if len(hubs) > 1:
        footer = [
            _("Totale"),
            None,
            None,
            *[people(sum(hub.by_kind.get(kind, 0) for hub in hubs)) for kind in kinds],
            people(sum(hub.total for hub in hubs)),
            None,  # a household served at two hubs would be counted twice: no total
        ]
    sums: list[Sum] = [Sum(row[3 + len(kinds)], row[3 : 3 + len(kinds)]) for row in rows]
    if footer:
        sums.append(Sum(footer[3 + len(kinds)], footer[3 : 3 + len(kinds)]))
    table = Table(
        "distributions",
        _("Distribuzioni per snodo"),
        _("Distribuzioni per snodo e tipo nel periodo"),
        columns,
        rows,
        footer,
        note=_(
            "Gli snodi della circoscrizione scelta (quella della sede), con almeno una"
            " distribuzione nel periodo."
        )
        if filters.circ
        else None,
    )
    if footer:
        sums += _sums_down(table, range(3, 4 + len(kinds)))
    _publish([table], sums)
    total_column = 3 + len(kinds)
    bars = [
        Bar(f"{hub.hub} · {hub.organization}", row[total_column], display(row[total_column]))
        for hub, row in zip(hubs[:HUB_CHART_MAX], rows, strict=False)
    ]
    description = None
    if len(hubs) > HUB_CHART_MAX:
        description = _(
            "Grafico a barre orizzontali: i %(n)d snodi con più distribuzioni su %(total)d."
            " Tutti gli snodi sono nella tabella che segue.",
            n=HUB_CHART_MAX,
            total=len(hubs),
        )
    _chart(table, with_charts, _("Distribuzioni per snodo"), bars, description)
    return Section(
        "distributions",
        _("Distribuzioni degli snodi"),
        _("Panieri alimentari e beni di prima necessità consegnati negli snodi Torino Solidale."),
        [table],
    )


def _days(median: queries.Median) -> float | None:
    return None if median.days is None else round(median.days, 1)


def _referrals(user: User, filters: ReportFilters, with_charts: bool) -> Section:
    by_status = queries.referrals_by_status(user, filters)
    statuses = [s for s in REFERRAL_LABELS if s != "draft"]
    status_rows = _coded_rows(by_status, REFERRAL_LABELS, statuses)
    status_total = people(sum(by_status.values()))
    status_table = Table(
        "referrals-status",
        _("Segnalazioni per stato"),
        _("Segnalazioni inviate nel periodo, per stato attuale"),
        [_("Stato"), _("Segnalazioni")],
        status_rows,
        [_("Totale"), status_total],
    )
    # The same counts appear in the other tables: their cells are the same Count objects.
    of_status: dict[str, Count] = dict(zip(statuses, _column(status_rows, 1), strict=False))
    sums = _sums_down(status_table, [1])

    by_outcome = queries.referrals_by_outcome(user, filters)
    outcome_rows: list[list[Cell]] = []
    for status, vocabulary, kind in (
        ("completed", OUTCOMES_COMPLETED, _("esito positivo")),
        ("failed", OUTCOMES_FAILED, _("senza esito")),
    ):
        codes = list(vocabulary) + [
            code for (s, code) in by_outcome if s == status and code not in vocabulary
        ]
        first = len(outcome_rows)
        for code in codes:
            label = sentence(vocabulary.get(code, code or _("non indicato")))
            outcome_rows.append([label, kind, people(by_outcome.get((status, code), 0))])
        sums.append(Sum(of_status[status], _column(outcome_rows[first:], 2)))
    outcome_table = Table(
        "referrals-outcome",
        _("Segnalazioni per esito"),
        _("Esiti delle segnalazioni inviate nel periodo e già concluse"),
        [_("Esito"), _("Tipo di esito"), _("Segnalazioni")],
        outcome_rows,
    )

    by_type = queries.referrals_by_service_type(user, filters)
    type_rows: list[list[Cell]] = [
        [str(label), people(by_type.get(code, (0, 0))[0]), people(by_type.get(code, (0, 0))[1])]
        for code, label in SERVICE_TYPES.items()
    ] + [
        [code, people(count), people(done)]
        for code, (count, done) in by_type.items()
        if code not in SERVICE_TYPES
    ]
    sums += [
        Sum(status_total, _column(type_rows, 1)),
        Sum(of_status["completed"], _column(type_rows, 2)),
    ]
    type_table = Table(
        "referrals-service",
        _("Segnalazioni per servizio"),
        _("Segnalazioni inviate nel periodo, per tipo di servizio"),
        [_("Tipo di servizio"), _("Segnalazioni"), _("Concluse con esito positivo")],
        type_rows,
    )

    decision = queries.decision_time(user, filters)
    outcome = queries.outcome_time(user, filters)
    outcome_count = people(outcome.count)
    sums.append(Sum(outcome_count, [of_status["completed"], of_status["failed"]]))
    times = Table(
        "referrals-times",
        _("Tempi delle segnalazioni"),
        _("Tempi delle segnalazioni inviate nel periodo (mediana, in giorni)"),
        [_("Intervallo"), _("Segnalazioni considerate"), _("Giorni (mediana)")],
        [
            [_("Dall'invio alla decisione della Città"), people(decision.count), _days(decision)],
            [_("Dall'invio all'esito finale"), outcome_count, _days(outcome)],
        ],
        note=_(
            "Giorni di calendario trascorsi, con i decimali. La decisione è l'approvazione o il"
            " rifiuto della Città; l'esito è la chiusura con o senza esito positivo."
        ),
    )
    step_labels = {
        "no_approval": _("Approvazione della Città (dall'invio)"),
        "no_answer": _("Risposta dell'ente (dall'approvazione)"),
        "no_outcome": _("Avvio del percorso (dall'accettazione)"),
    }
    step_rows: list[list[Cell]] = []
    for step in queries.step_times(user, filters):
        step_rows.append(
            [
                step_labels[step.code],
                people(step.time.count),
                _days(step.time),
                None if step.time.p90 is None else round(step.time.p90, 1),
                people(step.expired),
            ]
        )
    steps = Table(
        "referrals-steps",
        _("Attese per passaggio"),
        _("Quanto ha atteso ogni passaggio delle segnalazioni inviate nel periodo, e quante sono "
          "scadute senza risposta"),
        [
            _("Passaggio"),
            _("Segnalazioni considerate"),
            _("Giorni (mediana)"),
            _("Giorni (90° percentile)"),
            _("Scadute senza risposta"),
        ],
        step_rows,
        note=_(
            "Giorni di calendario, con i decimali, fino alla risposta o alla scadenza. Una "
            "segnalazione scade quando resta senza risposta oltre il termine del passaggio "
            "(impostazioni dell'amministratore) e torna all'ente inviante."
        ),
    )  # fmt: skip
    # The expired ones by step add up to the status table's "scaduta" row.
    sums.append(Sum(of_status["expired"], _column(step_rows, 4)))
    _publish([status_table, outcome_table, type_table, times, steps], sums)
    _chart(status_table, with_charts, _("Segnalazioni per stato"), _count_bars(status_rows))
    _chart(
        outcome_table,
        with_charts,
        _("Segnalazioni per esito"),
        [Bar(f"{row[0]} ({row[1]})", row[2], display(row[2])) for row in outcome_rows],
    )
    _chart(type_table, with_charts, _("Segnalazioni per tipo di servizio"), _count_bars(type_rows))
    return Section(
        "referrals",
        _("Segnalazioni ai servizi al lavoro"),
        _("Le segnalazioni inviate alla Città nel periodo, con il loro stato di oggi."),
        [status_table, outcome_table, type_table, times, steps],
    )


def _housing(user: User, filters: ReportFilters, with_charts: bool) -> Section:
    by_status = queries.placements_by_status(user, filters)
    status_rows = _coded_rows(by_status, PLACEMENT_LABELS)
    status_table = Table(
        "placements-status",
        _("Inserimenti per stato"),
        _("Inserimenti proposti nel periodo, per stato attuale"),
        [_("Stato"), _("Inserimenti")],
        status_rows,
        [_("Totale"), people(sum(by_status.values()))],
    )

    exits = queries.exits_by_reason(user, filters)
    exit_rows = _coded_rows(exits, EXIT_REASONS)
    exit_table = Table(
        "placements-exits",
        _("Uscite per motivo"),
        _("Uscite dagli alloggi nel periodo, per motivo"),
        [_("Motivo dell'uscita"), _("Uscite")],
        exit_rows,
        [_("Totale"), people(sum(exits.values()))],
    )
    _publish(
        [status_table, exit_table], [*_sums_down(status_table, [1]), *_sums_down(exit_table, [1])]
    )
    _chart(status_table, with_charts, _("Inserimenti per stato"), _count_bars(status_rows))
    _chart(exit_table, with_charts, _("Uscite per motivo"), _count_bars(exit_rows))

    occupancy = {row.kind: row for row in queries.occupancy_by_kind(user, filters)}
    occupancy_rows: list[list[Cell]] = []
    for kind in list(UNIT_KINDS) + [k for k in occupancy if k not in UNIT_KINDS]:
        row = occupancy.get(kind) or queries.OccupancyRow(kind, 0, 0, 0)
        occupancy_rows.append(
            [
                sentence(UNIT_KINDS.get(kind, kind)),
                row.units,
                row.capacity,
                row.vacancies,
                row.occupied,
                row.occupancy,
            ]
        )
    capacity = sum(row.capacity for row in occupancy.values())
    vacancies = sum(row.vacancies for row in occupancy.values())
    occupancy_table = Table(
        "occupancy",
        _("Occupazione alloggi"),
        _("Occupazione degli alloggi attivi oggi, per tipologia"),
        [
            _("Tipologia"),
            _("Alloggi"),
            _("Posti"),
            _("Posti liberi"),
            _("Posti occupati o riservati"),
            _("Occupazione (%)"),
        ],
        occupancy_rows,
        [
            _("Totale"),
            sum(row.units for row in occupancy.values()),
            capacity,
            vacancies,
            capacity - vacancies,
            share(capacity - vacancies, capacity),
        ],
        note=_(
            "Dato di oggi, non del periodo: posti occupati = posti meno posti liberi, compresi"
            " quelli riservati a una proposta di inserimento. Circoscrizione dell'alloggio."
        ),
    )
    _chart(
        occupancy_table,
        with_charts,
        _("Occupazione per tipologia di alloggio (%)"),
        _percent_bars(occupancy_rows, 5),
        scale_max=100.0,
    )
    return Section(
        "housing",
        _("Housing sociale e accoglienza"),
        _("Inserimenti negli alloggi e uscite del periodo; occupazione dei posti oggi."),
        [status_table, exit_table, occupancy_table],
    )


def _projects(user: User, filters: ReportFilters, today: date, with_charts: bool) -> Section:
    by_status = queries.projects_by_status(user, filters)
    status_rows = _coded_rows(by_status, PROJECT_LABELS)
    # Both tables count the projects of the period: one Count for both totals.
    total_count = people(sum(by_status.values()))
    status_table = Table(
        "projects-status",
        _("Progetti per stato"),
        _("Progetti individualizzati del periodo, per stato attuale"),
        [_("Stato"), _("Progetti")],
        status_rows,
        [_("Totale"), total_count],
    )

    youth, total = queries.youth_projects(user, filters)
    others = total - youth
    youth_count, others_count = people(youth), people(others)
    youth_table = Table(
        "projects-youth",
        _("Progetti per giovani"),
        _("Progetti per giovani di 18-29 anni sul totale dei progetti del periodo"),
        [_("Progetti"), _("Numero"), _("Quota (%)")],
        [
            [_("Per giovani 18-29"), youth_count, None],
            [_("Altri progetti"), others_count, None],
        ],
        [_("Totale"), total_count, None],
    )
    _publish(
        [status_table, youth_table],
        [*_sums_down(status_table, [1]), Sum(total_count, [youth_count, others_count])],
    )
    # A share would give away a hidden count: shown only when no count of the table is hidden.
    if total and not any(count.hidden for count in (youth_count, others_count, total_count)):
        youth_table.rows[0][2] = share(youth, total)
        youth_table.rows[1][2] = share(others, total)
        youth_table.footer = [_("Totale"), total_count.published, 100.0]
    _chart(status_table, with_charts, _("Progetti per stato"), _count_bars(status_rows))

    spending = {row.category: row for row in queries.spending_by_category(user, filters)}
    zero = Decimal("0.00")
    spending_rows: list[list[Cell]] = []
    for category in list(CATEGORIES) + [c for c in spending if c not in CATEGORIES]:
        row = spending.get(category) or queries.SpendingRow(category, zero, zero, zero)
        spending_rows.append(
            [sentence(CATEGORIES.get(category, category)), row.approved, row.committed, row.paid]
        )
    spending_table = Table(
        "spending",
        _("Spesa per categoria"),
        _("Budget dei progetti approvati, in corso o chiusi del periodo, per categoria"),
        [_("Categoria"), _("Approvato"), _("Impegnato"), _("Pagato")],
        spending_rows,
        [
            _("Totale"),
            sum((r.approved for r in spending.values()), zero),
            sum((r.committed for r in spending.values()), zero),
            sum((r.paid for r in spending.values()), zero),
        ],
    )
    _chart(
        spending_table,
        with_charts,
        _("Importi approvati per categoria"),
        [Bar(str(row[0]), row[1], display(row[1])) for row in spending_rows],
    )

    progress = finance.progress(today)
    programme_rows: list[list[Cell]] = [
        [
            f"{line.code} · {ACTION_LINES[line.code]}",
            line.envelope,
            line.committed,
            line.paid,
            line.remaining,
            share(line.committed, line.envelope) if line.committed is not None else None,
        ]
        for line in progress.lines
    ]
    programme_table = Table(
        "programme",
        _("Avanzamento programma"),
        _("Avanzamento finanziario del programma per linea di azione (intero programma, oggi)"),
        [
            _("Linea di azione"),
            _("Dotazione"),
            _("Impegnato nel portale"),
            _("Pagato nel portale"),
            _("Residuo"),
            _("Impegnato (% della dotazione)"),
        ],
        programme_rows,
        [
            _("Totale"),
            progress.programmed,
            progress.recorded_committed,
            progress.recorded_paid,
            None,
            None,
        ],
        note=_(
            "Non dipende dai filtri: dotazione della scheda di progetto e spesa registrata nel"
            " portale fino a oggi. «—»: non registrato nel portale (linea A; pagamenti della"
            " linea C)."
        ),
    )
    _chart(
        programme_table,
        with_charts,
        _("Quota della dotazione impegnata per linea di azione (%)"),
        _percent_bars(programme_rows, 5),
        scale_max=100.0,
    )
    return Section(
        "projects",
        _("Progetti individualizzati e budget di vita"),
        _(
            "Progetti esistenti nel periodo (creati entro la fine, non chiusi prima dell'inizio);"
            " la spesa conta i progetti approvati, in corso o chiusi."
        ),
        [status_table, youth_table, spending_table, programme_table],
    )


# The report -----------------------------------------------------------------------------------


def build_report(
    user: User, filters: ReportFilters, today: date, *, with_charts: bool = True
) -> Report:
    """Every section of the chosen action line(s), in the order of the page."""
    builders: list[tuple[str | None, Callable[[], Section]]] = [
        (None, lambda: _reach(user, filters, with_charts)),
        ("A", lambda: _distributions(user, filters, with_charts)),
        ("A", lambda: _referrals(user, filters, with_charts)),
        ("B", lambda: _projects(user, filters, today, with_charts)),
        ("C", lambda: _housing(user, filters, with_charts)),
    ]
    return Report(
        filters,
        [build() for line, build in builders if line is None or filters.shows(line)],
    )
