"""The audit viewer, for coordinators and admins: read-only.

Filters live in the URL; the list is newest first, 50 events a page, paged with a cursor (the id
of the last event shown) so that even with millions of events every page is an index range scan.
Exports take the same filters, at most EXPORT_LIMIT events, and are audited themselves.
There is no route that edits or deletes an event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_login import current_user
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased
from werkzeug.datastructures import MultiDict

from app.audit.format import field_label, is_pair, value_text
from app.audit.labels import ACTION_LABELS, audit_label
from app.audit.models import AuditEvent
from app.audit.operations import commit_view, record, record_views
from app.audit.policy import READERS, masks_values, object_links
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.exports import Sheet, csv_response, xlsx_response
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.web.fields import bounded_int, parse_filter_day
from app.web.htmx import push_url, render, wants_fragment
from app.web.paging import COUNT_CAP, capped_total
from app.web.transactions import finish
from app.workdays import start_of_day_utc

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50
COUNT_LIMIT = COUNT_CAP  # counting stops here: "more than 10,000" is all a reader needs
EXPORT_LIMIT = 50_000
_ACTION_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

OBJECT_TYPES = {
    "household": _l("nucleo familiare"),
    "person": _l("persona"),
    "referral": _l("segnalazione"),
    "placement": _l("inserimento in alloggio"),
    "wellbeing_check": _l("verifica del benessere"),
    "housing_risk_case": _l("caso di prevenzione dello sfratto"),
    "project": _l("progetto individualizzato"),
    "budget_line": _l("voce di budget"),
    "distribution": _l("distribuzione"),
    "joint_care_request": _l("presa in carico congiunta"),
    "organization": _l("ente"),
    "accreditation": _l("accreditamento"),
    "service": _l("servizio"),
    "site": _l("sede"),
    "housing_unit": _l("alloggio"),
    "user_account": _l("account"),
    "account_change_request": _l("richiesta sugli account"),
}


def object_type_label(code: str | None) -> str:
    if not code:
        return ""
    return str(OBJECT_TYPES.get(code, code))


# Filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    utente: str = ""  # the start of a username or a full name
    ente: int | None = None  # the organization of the actor
    tipo: str = ""  # object type
    oggetto: int | None = None  # object id
    azione: str = ""
    dal: date | None = None
    al: date | None = None
    prima: int | None = None  # cursor: events older than this one
    dopo: int | None = None  # cursor: events newer than this one
    errors: dict[str, str] = field(default_factory=dict, compare=False)
    typed: dict[str, str] = field(default_factory=dict, compare=False)  # dates as typed

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> AuditFilters:
        errors: dict[str, str] = {}
        dal, problem = parse_filter_day(args.get("dal"))
        if problem:
            errors["dal"] = problem
        al, problem = parse_filter_day(args.get("al"))
        if problem:
            errors["al"] = problem
        if dal and al and al < dal:
            errors["al"] = _("La data finale viene prima di quella iniziale: correggi il periodo.")
        tipo = (args.get("tipo") or "").strip()
        azione = (args.get("azione") or "").strip()
        oggetto = bounded_int(args.get("oggetto"))
        return cls(
            utente=(args.get("utente") or "").strip()[:100],
            ente=bounded_int(args.get("ente")),
            tipo=tipo if tipo in OBJECT_TYPES else "",
            oggetto=oggetto if oggetto is not None and oggetto > 0 else None,
            azione=azione if _ACTION_CODE.match(azione) else "",
            dal=dal,
            al=al,
            prima=bounded_int(args.get("prima")),
            dopo=bounded_int(args.get("dopo")),
            errors=errors,
            typed={k: (args.get(k) or "").strip()[:10] for k in ("dal", "al")},
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "utente": self.utente,
            "ente": self.ente,
            "tipo": self.tipo,
            "oggetto": self.oggetto,
            "azione": self.azione,
            "dal": self.dal.isoformat() if self.dal else self.typed.get("dal"),
            "al": self.al.isoformat() if self.al else self.typed.get("al"),
            "prima": self.prima,
            "dopo": self.dopo,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def export_args(self) -> dict[str, object]:
        return self.url_args(prima=None, dopo=None)


def filtered_events(filters: AuditFilters) -> Select[Any]:
    """Events matching the filters (every event: the readers are the City and IT)."""
    query = select(AuditEvent)
    if filters.utente:
        term = filters.utente.lower().replace("\\", "").replace("%", "").replace("_", "\\_")
        query = query.where(
            AuditEvent.actor_id.in_(
                select(User.id).where(
                    or_(
                        func.lower(User.username).like(f"{term}%", escape="\\"),
                        func.lower(User.full_name).like(f"{term}%", escape="\\"),
                        func.lower(User.full_name).like(f"% {term}%", escape="\\"),
                    )
                )
            )
        )
    if filters.ente:
        query = query.where(AuditEvent.actor_organization_id == filters.ente)
    if filters.tipo:
        query = query.where(AuditEvent.object_type == filters.tipo)
        # The number counts only with its type: (object_type, object_id) is the index.
        if filters.oggetto:
            query = query.where(AuditEvent.object_id == filters.oggetto)
    if filters.azione:
        query = query.where(AuditEvent.action == filters.azione)
    if filters.dal:
        query = query.where(AuditEvent.created_at >= start_of_day_utc(filters.dal))
    if filters.al:
        query = query.where(
            AuditEvent.created_at < start_of_day_utc(filters.al + timedelta(days=1))
        )
    return query


def _older_than(event: AuditEvent) -> Any:
    # `created_at <=` first, so the created_at index bounds the scan.
    return and_(
        AuditEvent.created_at <= event.created_at,
        or_(AuditEvent.created_at < event.created_at, AuditEvent.id < event.id),
    )


def _newer_than(event: AuditEvent) -> Any:
    return and_(
        AuditEvent.created_at >= event.created_at,
        or_(AuditEvent.created_at > event.created_at, AuditEvent.id > event.id),
    )


NEWEST_FIRST = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
OLDEST_FIRST = (AuditEvent.created_at.asc(), AuditEvent.id.asc())


@dataclass(frozen=True)
class Row:
    """One event as the reader may see it."""

    event: AuditEvent
    actor: str
    organization: str
    masked: bool
    link: str | None
    changes: list[tuple[str, str, str | None]]  # field, old or value, new (None: a plain value)


# The model of the organizations users belong to (the registry's), for the actors' organization
# names and the filter by organization: handed over at app creation (app.audit_wiring), so the
# audit package imports no domain.
_ORGANIZATION: list[Any] = []


def register_organization_model(model: Any) -> None:
    """The mapped class with `id` and `name` that `AuditEvent.actor_organization_id` refers to."""
    _ORGANIZATION[:] = [model]


def _organization() -> Any:
    return _ORGANIZATION[0]


def _with_names(query: Select[Any]) -> Select[Any]:
    actor = aliased(User)
    org = aliased(_organization())
    return (
        query.outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(org, org.id == AuditEvent.actor_organization_id)
        .add_columns(actor.full_name, actor.username, org.name)
    )


def change_lines(
    changes: dict[str, Any] | None, masked: bool, object_type: str | None = None
) -> list[tuple[str, str, str | None]]:
    """(field label, old or value, new or None) for each field, in Italian (app.audit.format),
    values hidden when `masked`."""
    hidden = _("valore nascosto")
    lines: list[tuple[str, str, str | None]] = []
    for name, value in (changes or {}).items():
        pair = is_pair(str(name), value)
        label = field_label(str(name))
        if masked:
            lines.append((label, hidden, hidden if pair else None))
        elif pair:
            old, new = (value_text(str(name), item, object_type) for item in value)
            lines.append((label, old, new))
        else:
            lines.append((label, value_text(str(name), value, object_type), None))
    return lines


def _actor_text(full_name: str | None, username: str | None, actor_id: int | None) -> str:
    if actor_id is None:
        return _("sistema")
    if full_name is None:
        return _("utente n. %(id)s", id=actor_id)
    return f"{full_name} ({username})"


def _rows(results: Sequence[Any], user: User, with_links: bool = True) -> list[Row]:
    events = [result[0] for result in results]
    links = object_links(user, events) if with_links else {}
    rows = []
    for event, full_name, username, org_name in results:
        masked = masks_values(user, event)
        target = links.get((event.object_type, event.object_id)) if event.object_type else None
        rows.append(
            Row(
                event=event,
                actor=_actor_text(full_name, username, event.actor_id),
                organization=org_name or "",
                masked=masked,
                link=url_for(target[0], **{target[1]: event.object_id}) if target else None,
                changes=change_lines(event.changes, masked, event.object_type),
            )
        )
    return rows


def _cursor(event_id: int | None) -> AuditEvent | None:
    return db.session.get(AuditEvent, event_id) if event_id else None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    newer: int | None  # cursor of the newer page ("dopo"), when there is one
    older: int | None  # cursor of the older page ("prima"), when there is one
    at_start: bool  # the newest events: no cursor


def _exists(query: Select[Any], clause: Any) -> bool:
    probe = query.where(clause).with_only_columns(AuditEvent.id).limit(1)
    return db.session.scalar(probe) is not None


def _page(filters: AuditFilters) -> Page:
    """PAGE_SIZE events, newest first, after or before a cursor event (keyset pagination)."""
    query = filtered_events(filters)
    before, after = _cursor(filters.prima), _cursor(filters.dopo)
    if after is not None:
        found = db.session.execute(
            _with_names(query.where(_newer_than(after)))
            .order_by(*OLDEST_FIRST)
            .limit(PAGE_SIZE + 1)
        ).all()
        if len(found) > PAGE_SIZE:
            results = list(reversed(found[:PAGE_SIZE]))
            older = _exists(query, _older_than(results[-1][0]))
            return Page(
                rows=_rows(results, current_user),
                newer=results[0][0].id,
                older=results[-1][0].id if older else None,
                at_start=False,
            )
        before = None  # back at the newest events: the first page
    page_query = query.where(_older_than(before)) if before is not None else query
    found = db.session.execute(
        _with_names(page_query).order_by(*NEWEST_FIRST).limit(PAGE_SIZE + 1)
    ).all()
    results = found[:PAGE_SIZE]
    newer = before is not None and bool(results) and _exists(query, _newer_than(results[0][0]))
    return Page(
        rows=_rows(results, current_user),
        newer=results[0][0].id if newer else None,
        older=results[-1][0].id if len(found) > PAGE_SIZE else None,
        at_start=before is None,
    )


def _organization_options() -> list[tuple[int, str]]:
    organization = _organization()
    rows = db.session.execute(
        select(organization.id, organization.name).order_by(organization.name, organization.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _action_options(selected: str) -> list[tuple[str, str]]:
    options = sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=_by_label)
    if selected and selected not in ACTION_LABELS:
        options.insert(0, (selected, audit_label(selected)))
    return options


def _by_label(option: tuple[Any, str]) -> str:
    return option[1].casefold()


def _context(filters: AuditFilters) -> dict[str, Any]:
    return {
        "filters": filters,
        "action_options": _action_options(filters.azione),
        "type_options": sorted(
            ((code, str(label)) for code, label in OBJECT_TYPES.items()), key=_by_label
        ),
        "organization_options": _organization_options(),
        "object_type_label": object_type_label,
        "export_limit": EXPORT_LIMIT,
        "count_limit": COUNT_LIMIT,
        "oob": wants_fragment(),
        "masks_personal_values": current_user.has_role(Role.ADMIN),
    }


@bp.get("/")
@roles_required(*READERS)
def index() -> Response:
    filters = AuditFilters.from_args(request.args)
    if filters.errors:
        page, total = Page([], None, None, True), 0
    else:
        page = _page(filters)
        total = capped_total(filtered_events(filters).with_only_columns(AuditEvent.id))
        if filters.tipo == "household" and filters.oggetto and page.rows:  # a household's events
            record_views("audit_viewed", [filters.oggetto], changes={"filters": filters.url_args()})
            commit_view()
    response = render(
        "audit/index.html",
        "audit/_results.html",
        status=422 if filters.errors else 200,
        page=page,
        total=total,
        **_context(filters),
    )
    if wants_fragment():
        push_url(response, "audit.index", **filters.url_args())
    return response


# Exports -------------------------------------------------------------------------------------


def export_header() -> list[str]:
    return [
        _("N. evento"),
        _("Data e ora"),
        _("Utente"),
        _("Ente dell'utente"),
        _("Azione"),
        _("Codice azione"),
        _("Oggetto"),
        _("N. oggetto"),
        _("Modifiche"),
        _("Indirizzo IP"),
    ]


def _changes_text(lines: Iterable[tuple[str, str, str | None]]) -> str:
    return "; ".join(
        f"{name}: {old} → {new}" if new is not None else f"{name}: {old}"
        for name, old, new in lines
    )


def _export_rows(filters: AuditFilters) -> tuple[list[list[Any]], bool]:
    results = db.session.execute(
        _with_names(filtered_events(filters)).order_by(*NEWEST_FIRST).limit(EXPORT_LIMIT + 1)
    ).all()
    capped = len(results) > EXPORT_LIMIT
    rows = [
        [
            row.event.id,
            row.event.created_at,
            row.actor,
            row.organization,
            audit_label(row.event.action),
            row.event.action,
            object_type_label(row.event.object_type),
            row.event.object_id,
            _changes_text(row.changes),
            row.event.ip_address or "",
        ]
        for row in _rows(results[:EXPORT_LIMIT], current_user, with_links=False)
    ]
    return rows, capped


def _capped_note() -> str:
    return _(
        "Esportazione limitata ai %(n)s eventi più recenti: "
        "restringi i filtri per avere gli altri.",
        n=f"{EXPORT_LIMIT:,}".replace(",", "."),
    )


def _export(kind: str) -> Response:
    filters = replace(AuditFilters.from_args(request.args), prima=None, dopo=None)
    if filters.errors:
        return render(
            "audit/index.html",
            status=422,
            page=Page([], None, None, True),
            total=0,
            **_context(filters),
        )
    rows, capped = _export_rows(filters)
    record(
        "audit_exported",
        None,
        {"filters": filters.export_args(), "rows": len(rows), "format": kind, "capped": capped},
    )
    if capped:
        rows.append([_capped_note()])
    name = f"registro-attivita-{today().isoformat()}"
    if kind == "csv":
        return finish(csv_response(name, export_header(), rows))
    return finish(xlsx_response(name, [Sheet(_("Registro attività"), export_header(), rows)]))


@bp.get("/export.csv")
@roles_required(*READERS)
def export_csv() -> Response:
    return _export("csv")


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export_xlsx() -> Response:
    return _export("xlsx")
