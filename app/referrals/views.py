"""Referral pages: the list (and the coordinator's queue), a new referral, the detail, the steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from app.audit.operations import commit_view, record_views
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.exports import ROW_LIMIT
from app.extensions import db
from app.households.consents import ANY
from app.households.consents import refusal as consent_refusal
from app.households.models import Household, Person
from app.households.policy import (
    HouseholdAccess,
    can_edit_household,
    editable_household_or_404,
    may_open_household,
)
from app.households.vocabulary import CONTACT_CHANNELS
from app.i18n import gettext as _
from app.i18n import ngettext
from app.idempotency import Submission, claim, complete
from app.notifications.operations import mark_read
from app.referrals import bp, operations, queries
from app.referrals.forms import ActionForm, BulkApproveForm, ReferralForm
from app.referrals.labels import (
    ACTION_BUTTONS,
    ACTION_DONE,
    REASON_FIELDS,
    REASON_TITLES,
    exclusion_text,
    reason_texts,
    unfit_text,
    waiting_offer_text,
    waiting_text,
)
from app.referrals.matching import (
    Offer,
    Subject,
    Suggestion,
    eligible_offers,
    fits_need,
    ineligibility,
    position,
    rank_eligible,
    score,
)
from app.referrals.models import OPEN_STATUSES, Referral, ReferralStatusChange
from app.referrals.operations import TRANSITIONS
from app.referrals.policy import (
    PURPOSE,
    USERS,
    Side,
    household_access,
    knows_household,
    receivers_may_use,
    sees_person_contacts,
    sides,
    visible_referral_or_404,
    visible_referrals,
    visible_sides,
)
from app.referrals.queries import Parking
from app.referrals.vocabulary import (
    NEED_LABELS,
    STATUS_BADGES,
    STATUSES,
    reason_label,
    refer_again_rule,
)
from app.registry.models import Organization, Service
from app.registry.policy import referral_target_organizations
from app.registry.vocabulary import LANGUAGES
from app.web.errors import error_response
from app.web.fields import bounded_int, parse_filter_day
from app.web.htmx import push_url, render, wants_fragment
from app.web.list_export import Column, export_list
from app.web.paging import paginate
from app.web.transactions import commit_step, finish, roll_back
from app.workdays import start_of_day_utc
from app.workflow import StaleState

PAGE_SIZE = 25
SUGGESTIONS_SHOWN = 10
NEW_REFERRAL = "referral_new"  # the purpose of the new referral form's idempotency keys
BULK_MAX = 200
VOCABULARY = {
    "statuses": STATUSES,
    "status_badges": STATUS_BADGES,
    "needs": NEED_LABELS,
    "languages": LANGUAGES,
    "action_buttons": ACTION_BUTTONS,
    "reason_fields": REASON_FIELDS,
    "reason_titles": REASON_TITLES,
    "reason_label": reason_label,
    "reason_texts": reason_texts,
    "contact_channels": CONTACT_CHANNELS,
    "refer_again_rule": refer_again_rule,
}


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


# List and coordinator queue ------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralFilters:
    status: str = ""
    servizio: int | None = None
    servizio_nome: str = ""  # part of a service's or its organization's name
    circ: int | None = None
    dal: date | None = None
    al: date | None = None
    scadute: bool = False
    pagina: int = 1
    # A date that is not one, or outside 2000-2099: the message next to its field, and the list
    # is not filtered by it (the text typed stays in the field).
    errors: dict[str, str] = field(default_factory=dict, compare=False)
    typed: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ReferralFilters:
        circ = bounded_int(args.get("circ"))
        errors: dict[str, str] = {}
        days: dict[str, date | None] = {}
        for name in ("dal", "al"):
            days[name], problem = parse_filter_day(args.get(name))
            if problem:
                errors[name] = problem
        if days["dal"] and days["al"] and days["al"] < days["dal"]:
            errors["al"] = _("La data finale viene prima di quella iniziale: correggi il periodo.")
            days["al"] = None
        return cls(
            status=args.get("status", "") if args.get("status") in STATUSES else "",
            servizio=bounded_int(args.get("servizio")),
            servizio_nome=" ".join(args.get("servizio_nome", "").split())[:100],
            circ=circ if circ in range(1, 9) else None,
            dal=days["dal"],
            al=days["al"],
            scadute=args.get("scadute") == "1",
            pagina=max(min(bounded_int(args.get("pagina")) or 1, 100000), 1),
            errors=errors,
            typed={k: (args.get(k) or "").strip()[:10] for k in ("dal", "al") if k in errors},
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "status": self.status,
            "servizio": self.servizio,
            "servizio_nome": self.servizio_nome,
            "circ": self.circ,
            "dal": self.dal.isoformat() if self.dal else self.typed.get("dal"),
            "al": self.al.isoformat() if self.al else self.typed.get("al"),
            "scadute": "1" if self.scadute else None,
            "pagina": self.pagina,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "") and (k, v) != ("pagina", 1)}


def filtered_referrals(user: User, filters: ReferralFilters, day: date) -> Any:
    query = visible_referrals(user)
    if filters.status:
        query = query.where(Referral.status == filters.status)
    if filters.servizio:
        query = query.where(Referral.service_id == filters.servizio)
    if filters.servizio_nome:
        pattern = f"%{filters.servizio_nome.lower()}%"
        query = query.where(
            Referral.service_id.in_(
                select(Service.id)
                .join(Organization, Organization.id == Service.organization_id)
                .where(
                    or_(
                        func.lower(Service.name).like(pattern),
                        func.lower(Organization.name).like(pattern),
                    )
                )
            )
        )
    if filters.circ:  # only where the user knows the household: no oracle for the receiver
        query = query.where(
            knows_household(user),
            Referral.household_id.in_(
                select(Household.id).where(Household.circoscrizione == filters.circ)
            ),
        )
    if filters.dal:
        query = query.where(Referral.created_at >= start_of_day_utc(filters.dal))
    if filters.al:
        query = query.where(Referral.created_at < start_of_day_utc(filters.al + timedelta(days=1)))
    if filters.scadute:
        query = query.where(queries.overdue_clause(day))
    return query


SERVICE_OPTIONS = 200  # beyond this many services, the filter is a name search, not a list


def _service_options(user: User) -> list[tuple[int, str]] | None:
    """The services the user's referrals go to: the choices of the service filter.

    None when there are more than SERVICE_OPTIONS (the City's view at city scale): a list of
    thousands helps nobody, so the page offers a search by name instead.
    """
    used = visible_referrals(user).with_only_columns(Referral.service_id).distinct()
    many = select(func.count()).select_from(used.limit(SERVICE_OPTIONS + 1).subquery())
    if (db.session.scalar(many) or 0) > SERVICE_OPTIONS:
        return None
    rows = db.session.execute(
        select(Service.id, Service.name, Organization.name)
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.id.in_(used))
        .order_by(Service.name, Organization.name, Service.id)
    ).all()
    return [(row[0], f"{row[1]} · {row[2]}") for row in rows]


@dataclass(frozen=True)
class ReferralHousehold:
    """What this user may see of a referral's household (`household_access`), built only by
    `_household_view`: the sender and the City the household, the receiving service its
    minimal view (the referred person, never the household). Templates and exports show
    what it holds."""

    access: HouseholdAccess
    name: str | None  # the household's name; None in the minimal view
    person_name: str  # the referred person (the reference person if none was named)
    member_name: str | None  # the referred member, named beside the household (full view)
    can_open: bool  # the household page is open to the user (asked only where it links)

    @property
    def full(self) -> bool:
        return self.access is HouseholdAccess.FULL


def _household_view(
    user: User, referral: Referral, shared: bool | None, with_link: bool = False
) -> ReferralHousehold:
    access = household_access(user, referral, shared=shared)
    full = access is HouseholdAccess.FULL
    person = referral.person or referral.household.reference_person
    member = referral.person if person and person.relation != "reference" else None
    return ReferralHousehold(
        access=access,
        name=referral.household.display_name if full else None,
        person_name=person.full_name if person else "",
        member_name=member.full_name if full and member else None,
        can_open=full and with_link and may_open_household(user, referral.household_id),
    )


@dataclass(frozen=True)
class Row:
    """One referral as a list row: what this user may see of it, and its flags."""

    referral: Referral
    who: ReferralHousehold
    overdue: bool
    target_lost: bool  # open, to an organization that may no longer receive referrals
    queue: bool  # a row of the coordinator's queue: reasons, approve, reject, checkbox
    can_decide: bool


def _rows(
    referrals: list[Referral], user: User, day: date, queue: bool, with_link: bool = False
) -> list[Row]:
    limits = queries.late_limits()
    open_targets = {r.to_organization_id for r in referrals if r.status in OPEN_STATUSES}
    in_force = set(
        db.session.scalars(
            referral_target_organizations(day)
            .with_only_columns(Organization.id)
            .where(Organization.id.in_(sorted(open_targets)))
        )
    )
    received = [r for r in referrals if r.to_organization_id == user.organization_id]
    shared = receivers_may_use(received) if user.organization_id else set()
    rows = []
    for referral in referrals:
        mine = sides(user, referral, shared=referral.id in shared)
        rows.append(
            Row(
                referral=referral,
                who=_household_view(user, referral, referral.id in shared, with_link),
                overdue=queries.is_overdue(referral, day, limits),
                target_lost=referral.status in OPEN_STATUSES
                and referral.to_organization_id not in in_force,
                queue=queue,
                can_decide=Side.COORDINATOR in mine and referral.status == "submitted",
            )
        )
    return rows


def _loaded(query: Any) -> Any:
    return query.options(
        selectinload(Referral.household).selectinload(Household.members),
        selectinload(Referral.person),
        selectinload(Referral.service),
        selectinload(Referral.from_organization),
        selectinload(Referral.to_organization),
    )


def _page_by_side(query: Any, clauses: list[Any], page: int) -> list[Referral]:
    """One page of an entity's list, newest change first, read side by side.

    An entity sees what it sent and what it receives: one OR over both makes the database
    fetch and sort every referral of the entity (thousands for a large one) to show 25. Each
    side instead reads its newest `page × PAGE_SIZE` keys from its own index, and only the
    merged page is loaded. A referral an entity sends to its own service is on both sides:
    UNION keeps it once.
    """
    depth = page * PAGE_SIZE
    newest = _list_order(queue=False)
    branches = []
    for clause in clauses:
        branch = (
            query.where(clause)
            .with_only_columns(Referral.id, Referral.status_changed_at, maintain_column_froms=True)
            .order_by(*newest)
            .limit(depth)
            .subquery()
        )
        branches.append(select(branch.c.id, branch.c.status_changed_at))
    merged = union(*branches).subquery()
    ids = list(
        db.session.scalars(
            select(merged.c.id)
            .order_by(merged.c.status_changed_at.desc(), merged.c.id.desc())
            .limit(PAGE_SIZE)
            .offset(depth - PAGE_SIZE)
        )
    )
    if not ids:
        return []
    found = db.session.scalars(_loaded(select(Referral)).where(Referral.id.in_(ids)))
    by_id = {referral.id: referral for referral in found}
    # A referral erased between the two reads (a data-rights request) is simply not shown.
    return [by_id[referral_id] for referral_id in ids if referral_id in by_id]


def _list_order(queue: bool) -> tuple[Any, ...]:
    """The queue from the oldest submission; every other list from the newest change."""
    if queue:
        return (Referral.submitted_at.asc(), Referral.id.asc())
    return (Referral.status_changed_at.desc(), Referral.id.desc())


def _is_queue(filters: ReferralFilters) -> bool:
    return current_user.has_role(Role.COORDINATOR) and filters.status == "submitted"


@bp.get("/")
@roles_required(*USERS)
def index() -> Response:
    day = today()
    filters = ReferralFilters.from_args(request.args)
    service_options = _service_options(current_user)
    if service_options is not None and filters.servizio not in dict(service_options):
        filters = replace(filters, servizio=None)
    queue = _is_queue(filters)
    query = filtered_referrals(current_user, filters, day)
    paging = paginate(query, filters.pagina, PAGE_SIZE)
    entity_sides = visible_sides(current_user)
    if entity_sides and not queue:
        referrals = _page_by_side(query, entity_sides, paging.number)
    else:
        referrals = list(
            db.session.scalars(paging.rows_of(_loaded(query).order_by(*_list_order(queue))))
        )
    record_views(
        "referrals_listed",
        [r.household_id for r in referrals],
        changes={"filters": filters.url_args(pagina=paging.number)},
    )
    commit_view()
    response = render(
        "referrals/index.html",
        "referrals/_results.html",
        rows=_rows(referrals, current_user, day, queue),
        queue=queue,
        filters=filters,
        **paging.context(),
        service_options=service_options,
        reject_reasons=TRANSITIONS["reject"].reasons,
        oob=wants_fragment(),
        **VOCABULARY,
    )
    if wants_fragment():
        push_url(response, "referrals.index", **filters.url_args())
    return response


# Exports of the list (personal data: the user's scope, the minimal view for receivers) -----


def _referral_export(kind: str) -> Response:
    """The list with its current filters, as a spreadsheet; the export is an audit event."""
    day = today()
    filters = ReferralFilters.from_args(request.args)
    service_options = _service_options(current_user)
    if service_options is not None and filters.servizio not in dict(service_options):
        filters = replace(filters, servizio=None)
    queue = _is_queue(filters)
    referrals = list(
        db.session.scalars(
            _loaded(filtered_referrals(current_user, filters, day))
            .order_by(*_list_order(queue))
            .limit(ROW_LIMIT + 1)
        )
    )
    # The receiving entity gets only what the service needs: the person, not the household.
    columns: list[Column[Row]] = [
        Column(_("N."), lambda row: row.referral.id),
        Column(_("Nucleo"), lambda row: row.who.name or ""),
        Column(_("Persona"), lambda row: row.who.person_name),
        Column(
            _("Bisogno"), lambda row: str(NEED_LABELS.get(row.referral.need, row.referral.need))
        ),
        Column(_("Servizio"), lambda row: row.referral.service.name),
        Column(_("Ente che riceve"), lambda row: row.referral.to_organization.name),
        Column(_("Ente inviante"), lambda row: row.referral.from_organization.name),
        Column(_("Stato"), lambda row: str(STATUSES.get(row.referral.status, row.referral.status))),
        Column(_("In ritardo"), lambda row: row.overdue),
        Column(_("Motivo o esito"), lambda row: _reason_text(row.referral)),
        Column(_("Creata il"), lambda row: row.referral.created_at),
        Column(_("Inviata il"), lambda row: row.referral.submitted_at),
        Column(_("Approvata il"), lambda row: row.referral.approved_at),
        Column(_("Accettata il"), lambda row: row.referral.accepted_at),
        Column(_("Chiusa il"), lambda row: row.referral.closed_at),
        Column(_("Ultima modifica"), lambda row: row.referral.status_changed_at),
    ]
    return export_list(
        kind,
        _rows(referrals[:ROW_LIMIT], current_user, day, queue),
        columns,
        cut_at=ROW_LIMIT if len(referrals) > ROW_LIMIT else None,
        household_of=lambda row: row.referral.household_id,
        filename=f"segnalazioni-{day.isoformat()}",
        title=_("Segnalazioni"),
        action="referrals_exported",
        changes={"filters": filters.url_args(pagina=1)},
    )


def _reason_text(referral: Referral) -> str:
    if not referral.reason_code:
        return ""
    return str(reason_label(referral.status, referral.reason_code))


@bp.get("/export.csv")
@roles_required(*USERS)
def export_csv() -> Response:
    return _referral_export("csv")


@bp.get("/export.xlsx")
@roles_required(*USERS)
def export_xlsx() -> Response:
    return _referral_export("xlsx")


@bp.post("/bulk-approve")
@roles_required(Role.COORDINATOR)
def bulk_approve() -> Response:
    """Approve the selected referrals, each in its own transaction; say what was refused."""
    form = BulkApproveForm()
    if not form.validate_on_submit():
        abort(400)
    ids = list(dict.fromkeys(i for i in map(bounded_int, request.form.getlist("ids")) if i))
    if not ids:
        flash(_("Seleziona almeno una segnalazione da approvare."), "warning")
        return _see_other("referrals.index", status="submitted")
    approved = 0
    refused: list[str] = []
    for referral_id in ids[:BULK_MAX]:
        referral = db.session.scalar(
            visible_referrals(current_user).where(Referral.id == referral_id)
        )
        if referral is None:
            refused.append(_("n. %(id)s: non trovata", id=referral_id))
            continue
        try:
            operations.transition(referral, "approve", current_user)
        except DomainError as error:
            roll_back()
            refused.append(_("n. %(id)s: %(reason)s", id=referral_id, reason=error.message))
            continue
        commit_step()
        approved += 1
    if len(ids) > BULK_MAX:
        refused.append(
            _("le segnalazioni oltre le prime %(max)d non sono state esaminate", max=BULK_MAX)
        )
    if approved:
        flash(
            ngettext(
                "%(num)d segnalazione approvata.", "%(num)d segnalazioni approvate.", approved
            ),
            "success",
        )
    if refused:
        flash(
            ngettext(
                "Non approvata: %(list)s.", "Non approvate: %(list)s.", len(refused),
                list="; ".join(refused),
            ),
            "danger",
        )  # fmt: skip
    return _see_other("referrals.index", status="submitted")


# A new referral ------------------------------------------------------------------------------


def _member(household: Household, value: object) -> Person | None:
    return next((m for m in household.members if str(m.id) == str(value)), None)


def _person_choice(person: Person, day: date) -> str:
    age = person.age(day)
    if age is None:
        return person.full_name
    if person.is_youth(day):
        return _("%(name)s, %(age)d anni (giovane 18-29)", name=person.full_name, age=age)
    return _("%(name)s, %(age)d anni", name=person.full_name, age=age)


def _default_person(household: Household) -> Person | None:
    return household.reference_person or (household.members[0] if household.members else None)


@dataclass(frozen=True)
class Ranking:
    """The best suggestions to show, the eligible services, and what the operator searched."""

    shown: list[Suggestion]
    eligible: dict[int, Offer]  # by service id
    subject: Subject | None = None
    need: str | None = None
    fitting: int = 0  # eligible services whose type fits the need (the ranked ones)
    found: list[Suggestion] = field(default_factory=list)  # fitting, found by name, not shown
    others: list[Suggestion] = field(default_factory=list)  # found by name, type not fitting
    search: str = ""
    # Services answering the need that a hard rule excludes for this person: (offer, why).
    excluded: list[tuple[Offer, str]] = field(default_factory=list)

    def chosen(self, service_id: str | None) -> Suggestion | None:
        """The suggestion for a service the form sent, if it is eligible for this person."""
        key = bounded_int(service_id)
        offer = self.eligible.get(key) if key is not None else None
        if offer is None or self.subject is None or self.need is None:
            return None
        return score(self.subject, self.need, offer)

    def position(self, chosen: Suggestion) -> int | None:
        """Where the chosen service stands in the ranking for the person (1 = first)."""
        if self.subject is None or self.need is None:
            return None
        return position(self.subject, self.need, self.eligible.values(), chosen)

    @property
    def unfit_total(self) -> int:
        return len(self.eligible) - self.fitting


SEARCH_SHOWN = 20  # services found by name, beyond the suggestions


def _search_text(values: Any) -> str:
    return " ".join(str(values.get("cerca_servizio", "")).split())[:100]


def _services_named(text: str, ids: Iterable[int]) -> list[int]:
    """The services among `ids` whose name, or their organization's, contains `text`."""
    wanted = list(ids)
    if not text or not wanted:
        return []
    pattern = f"%{text.lower()}%"
    return list(
        db.session.scalars(
            select(Service.id)
            .join(Organization, Organization.id == Service.organization_id)
            .where(
                Service.id.in_(wanted),
                or_(
                    func.lower(Service.name).like(pattern),
                    func.lower(Organization.name).like(pattern),
                ),
            )
            .order_by(Service.name, Service.id)
        )
    )


def _suggestions(
    household: Household, person: Person | None, need: str | None, search: str = ""
) -> Ranking:
    if need not in NEED_LABELS:
        return Ranking([], {}, search=search)
    day = today()
    parked = queries.parked_services(person.id if person else None, day)
    subject = queries.subject_for(household, person, day, parked)
    offers = queries.offers(day)
    eligible = {o.service_id: o for o in eligible_offers(subject, offers)}
    shown = rank_eligible(subject, need, eligible.values(), limit=SUGGESTIONS_SHOWN)
    fitting = sum(1 for o in eligible.values() if fits_need(need, o))
    found: list[Suggestion] = []
    others: list[Suggestion] = []
    if search:
        shown_ids = {s.service_id for s in shown}
        matches = _services_named(search, (i for i in eligible if i not in shown_ids))
        for service_id in matches[:SEARCH_SHOWN]:
            offer = eligible[service_id]
            suggestion = score(subject, need, offer)
            (found if fits_need(need, offer) else others).append(suggestion)
        found.sort(key=lambda s: (-s.score, s.service_id))
    return Ranking(
        shown,
        eligible,
        subject,
        need,
        fitting,
        found,
        others,
        search,
        _excluded(subject, need, offers, parked),
    )


EXCLUDED_SHOWN = 20


def _excluded(
    subject: Subject, need: str, offers: Iterable[Offer], parked: dict[int, Parking]
) -> list[tuple[Offer, str]]:
    """ "Why not": the services that answer the need but cannot take the person, with the rule
    (`parked`: the person's declines, as read for the subject)."""
    ruled_out = [
        (offer, code)
        for offer in offers
        if fits_need(need, offer) and (code := ineligibility(subject, offer)) is not None
    ]
    if not ruled_out:
        return []
    ruled_out.sort(key=lambda pair: (pair[1] != "parked", pair[0].service_id))
    return [
        (offer, exclusion_text(code, offer, parked.get(offer.service_id)))
        for offer, code in ruled_out[:EXCLUDED_SHOWN]
    ]


def _services_of(
    suggestions: list[Suggestion], excluded: list[tuple[Offer, str]] | None = None
) -> dict[int, Service]:
    ids = [s.service_id for s in suggestions]
    ids += [offer.service_id for offer, _why in excluded or []]
    if not ids:
        return {}
    return {
        service.id: service
        for service in db.session.scalars(
            select(Service).where(Service.id.in_(ids)).options(selectinload(Service.organization))
        )
    }


def _refused_service(value: str | None, day: date, person_id: int | None) -> str:
    """Why the chosen service is not among the suggestions, as precisely as the rules say."""
    service_id = bounded_int(value)
    service = db.session.get(Service, service_id) if service_id else None
    if service is not None:
        try:
            operations.check_target(service, day)
            operations.check_not_parked(person_id, service, day)
            if service.monthly_capacity <= 0:  # a full service is offered with its waiting list
                operations.check_capacity(service, day)
        except DomainError as error:
            return error.message
        return _(
            "Il servizio scelto non può accogliere questa persona (età o requisiti): "
            "scegline uno tra quelli suggeriti."
        )
    return _("Scegli un servizio tra quelli suggeriti.")


def sharing_problem(household: Household, day: date) -> str | None:
    """Why no referral of this household can be sent now: no consent for the job services in
    force (for any recipient); the one for the chosen service is checked when it is sent."""
    return consent_refusal(household, PURPOSE, ANY, day)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def new() -> Response:
    household_id = bounded_int(request.args.get("household"))
    if household_id is None:
        abort(404)
    household = editable_household_or_404(current_user, household_id)
    day = today()
    form = ReferralForm()
    form.person.choices = [(str(m.id), _person_choice(m, day)) for m in household.members]
    if request.method == "GET":
        chosen_person = _member(household, request.args.get("person")) or _default_person(household)
        form.person.data = str(chosen_person.id) if chosen_person else ""
        need_arg = request.args.get("need", "")
        form.need.data = need_arg if need_arg in NEED_LABELS else ""
    person = _member(household, form.person.data)
    need = form.need.data if form.need.data in NEED_LABELS else None
    search = _search_text(request.values)
    ranking = _suggestions(household, person or _default_person(household), need, search)
    top_error: str | None = None
    wait_offer: Service | None = None  # chosen, full: the form offers its waiting list
    searching = request.method == "POST" and request.form.get("action") == "search"
    if not searching and form.validate_on_submit() and need is not None:
        # A second click (or a resent page) with the same key answers like the first: the
        # referral it created, never a second one. Claimed before anything else is written.
        key = form.idempotency_key.data
        earlier = claim(key, current_user, NEW_REFERRAL)
        if earlier is not None:
            return _replayed(earlier)
        chosen = ranking.chosen(form.service.data)
        if chosen is None:
            ranked_for = person or _default_person(household)
            form.service.errors = [
                _refused_service(form.service.data, day, ranked_for.id if ranked_for else None)
            ]
        else:
            service = db.session.get(Service, chosen.service_id)
            if service is None:  # ranked from the database a moment ago: gone since
                abort(404)
            try:
                referral = operations.create(
                    household,
                    person,
                    need,
                    service,
                    form.motivation.data or "",
                    current_user,
                    suggestion=chosen,
                    day=day,
                    rank=ranking.position(chosen),
                )
                step = {"submit": "submit", "wait": "wait"}.get(request.form.get("action", ""))
                if step is not None:
                    operations.transition(referral, step, current_user, day=day)
                url = url_for("referrals.detail", referral_id=referral.id)
                complete(key, current_user, NEW_REFERRAL, referral, url)
            except operations.ServiceFull:
                # Not refused: the operator chooses whether the person waits for a place.
                roll_back()
                wait_offer = service
                position = queries.waiting_counts([service.id]).get(service.id, 0) + 1
                form.service.errors = [waiting_offer_text(service.name, position)]
            except DomainError as error:
                roll_back()
                top_error = error.message
            else:
                return finish(redirect(url, code=303), _created_message(referral))
    failed = form.is_submitted() and not searching and bool(form.errors or top_error)
    shown = ranking.shown
    listed = shown + ranking.found + ranking.others
    context = {
        "form": form,
        "household": household,
        "suggestions": shown,
        "more_suggestions": ranking.fitting - len(shown) - len(ranking.found),
        "found": ranking.found,
        "others": ranking.others,
        "unfit_total": ranking.unfit_total,
        "search": ranking.search,
        "unfit_text": unfit_text,
        "need_label": NEED_LABELS.get(need or "", ""),
        "services": _services_of(listed, ranking.excluded),
        "waiting_counts": queries.waiting_counts([s.service_id for s in listed if s.offer.full]),
        "waiting_text": waiting_text,
        "wait_offer": wait_offer,
        "excluded": ranking.excluded,
        "need_chosen": need is not None,
        "top_error": top_error,
        "sharing_problem": sharing_problem(household, day),
        **VOCABULARY,
    }
    if failed:
        roll_back()  # a refused form saves nothing, not even its claimed key
    record_views("referral_form_viewed", [household], household)
    commit_view()
    if request.method == "GET" and wants_fragment():
        return render("referrals/_suggestions.html", **context)
    return render("referrals/new.html", status=422 if failed else 200, **context)


def _created_message(referral: Referral) -> str:
    if referral.status == "draft":
        return _("Segnalazione salvata come bozza.")
    if referral.status == "waiting":
        return _(
            "Segnalazione messa in lista d'attesa: posizione %(position)s in lista. Passerà "
            "alla Città appena si libera un posto.",
            position=queries.waiting_position(referral),
        )
    return _("Segnalazione inviata alla Città per l'approvazione.")


def _replayed(earlier: Submission) -> Response:
    """The answer to a form already sent: where the first submission went, and what it did."""
    referral = db.session.get(Referral, earlier.object_id) if earlier.object_id else None
    if referral is None or not earlier.result_url:  # erased since: nothing to show
        return _see_other("referrals.index")
    flash(_created_message(referral), "success")
    return redirect(earlier.result_url, code=303)  # type: ignore[return-value]


# Detail and steps ----------------------------------------------------------------------------


def _organizations(ids: set[int | None]) -> dict[int, Organization]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        org.id: org
        for org in db.session.scalars(select(Organization).where(Organization.id.in_(wanted)))
    }


def _referral_for_its_page(referral_id: int) -> Referral:
    """The referral with what its page shows (both organizations, the service, the history)."""
    return visible_referral_or_404(
        current_user,
        referral_id,
        joinedload(Referral.from_organization),
        joinedload(Referral.to_organization),
        joinedload(Referral.service),
        joinedload(Referral.created_by),
        selectinload(Referral.history).joinedload(ReferralStatusChange.actor),
    )


@bp.get("/<int:referral_id>")
@roles_required(*USERS)
def detail(referral_id: int) -> Response:
    referral = _referral_for_its_page(referral_id)
    operations.record_view(referral, current_user)
    mark_read(current_user, "referral", referral.id)
    commit_view()
    return _detail_page(referral)


def _detail_page(
    referral: Referral,
    status: int = 200,
    failed_action: str | None = None,
    action_error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    day = today()
    history = list(referral.history)
    row = _rows([referral], current_user, day, False, with_link=True)[0]
    person = referral.person or referral.household.reference_person
    actions = operations.available_actions(current_user, referral)
    places_left: int | None = None
    if referral.status in ("draft", "waiting"):
        places_left = queries.places_left([referral.service], day)[referral.service_id]
        if places_left > 0:  # the waiting list is for a service with no place left
            actions = [action for action in actions if action != "wait"]
    return render(
        "referrals/detail.html",
        referral=referral,
        row=row,
        who=row.who,
        person=person,
        resend_url=_resend_url(referral),
        contacts=sees_person_contacts(current_user, referral),
        case_worker=referral.created_by,
        history=history,
        organizations=_organizations({h.actor_organization_id for h in history}),
        actions=actions,
        places_left=places_left,
        waiting_position=queries.waiting_position(referral),
        transitions=TRANSITIONS,
        today=day,
        status=status,
        failed_action=failed_action,
        action_error=action_error,
        typed=typed or {},
        **VOCABULARY,
    )


def _resend_url(referral: Referral) -> str | None:
    """An expired referral goes back to its sender: the form for a new one, same person and
    need (the suggestions are ranked afresh: places and rules may have changed)."""
    if referral.status != "expired" or Side.SENDER not in sides(current_user, referral):
        return None
    if not can_edit_household(current_user, referral.household):
        return None
    return url_for(
        "referrals.new",
        household=referral.household_id,
        person=referral.person_id or "",
        need=referral.need,
    )


def _reason_missing(referral: Referral, action: str, form: ActionForm) -> bool:
    if action == "approve":  # against the ranking: the coordinator says why
        return operations.against_ranking(referral) and not (form.note.data or "").strip()
    reasons = TRANSITIONS[action].reasons
    if reasons is None:
        return False
    code = form.reason_code.data or ""
    return code not in reasons or (code == "other" and not (form.note.data or "").strip())


def _queue_row(
    referral: Referral, error: str | None = None, status: int = 200, action: str | None = None
) -> Response:
    """The queue row after a decision; a refused one keeps its form open on the field to fix."""
    row = _rows([referral], current_user, today(), True)[0]
    record_views("referrals_listed", [referral.household_id])  # committed by the caller
    return render(
        "referrals/_row.html",
        row=row,
        queue=True,
        error=error,
        failed_action=action if error is not None else None,
        saved=error is None,
        reject_reasons=TRANSITIONS["reject"].reasons,
        status=status,
        **VOCABULARY,
    )


def _stale_detail(referral_id: int, message: str) -> Response:
    """A step refused because the referral moved on: its page as it is now, with the reason."""
    referral = _referral_for_its_page(referral_id)
    flash(message, "danger")
    operations.record_view(referral, current_user)
    response = _detail_page(referral, status=409)
    commit_view()
    return response


def _reason_refused(referral_id: int, action: str, error: str, form: ActionForm) -> Response:
    """A reason missing (or "altro" without a note): the page again, the step's form open with
    the message next to its field and what was typed kept (422), not the browser's bubble."""
    referral = _referral_for_its_page(referral_id)
    operations.record_view(referral, current_user)
    typed = {"reason_code": form.reason_code.data or "", "note": form.note.data or ""}
    response = _detail_page(referral, 422, action, error, typed)
    commit_view()
    return response


def _already_done_by(user: User, referral_id: int, action: str) -> bool:
    """The referral's last step is this very step, made by this user (the first of two clicks)."""
    last = db.session.execute(
        select(ReferralStatusChange.to_status, ReferralStatusChange.actor_id)
        .where(ReferralStatusChange.referral_id == referral_id)
        .order_by(ReferralStatusChange.created_at.desc(), ReferralStatusChange.id.desc())
        .limit(1)
    ).first()
    return last is not None and tuple(last) == (TRANSITIONS[action].target, user.id)


@bp.get("/<int:referral_id>/reject-form")
@roles_required(*USERS)
def reject_form(referral_id: int) -> Response:
    """The queue row's reject form, fetched when the coordinator asks for it (#21). Shows no
    household data (the referral's number only), so it is not an audited view. Asked for
    outside htmx, or once the referral can no longer be rejected here: the referral's page."""
    referral = visible_referral_or_404(current_user, referral_id)
    row = _rows([referral], current_user, today(), True)[0]
    if not wants_fragment():
        return redirect(url_for("referrals.detail", referral_id=referral_id), code=303)  # type: ignore[return-value]
    if not row.can_decide:  # decided meanwhile (or not this user's to decide)
        return error_response(
            409, _("La segnalazione non è più da decidere: la sua pagina mostra lo stato attuale.")
        )
    return render(
        "referrals/_reject_form.html", row=row, reject_reasons=TRANSITIONS["reject"].reasons
    )


@bp.post("/<int:referral_id>/<action>")
@roles_required(*USERS)
def act(referral_id: int, action: str) -> Response:
    referral = visible_referral_or_404(current_user, referral_id)
    if action not in TRANSITIONS:
        abort(404)
    in_queue = wants_fragment() and request.form.get("row") == "queue"
    form = ActionForm()
    error: str | None = None
    status = 409
    stale = False
    withdrawn = False  # the household's consent: the page as it is, with the reason (409)
    if not form.validate_on_submit():
        error = " ".join(str(e) for field in form for e in field.errors) or _("Dati non validi.")
        status = 422
    else:
        allowed = action in operations.available_actions(current_user, referral)
        try:
            operations.transition(
                referral,
                action,
                current_user,
                reason_code=form.reason_code.data or None,
                note=form.note.data,
            )
        except DomainError as refused:
            roll_back()
            error = refused.message
            stale = isinstance(refused, StaleState)
            withdrawn = isinstance(refused, operations.SharingWithdrawn)
            status = (
                422 if allowed and not stale and _reason_missing(referral, action, form) else 409
            )
            if stale and _already_done_by(current_user, referral_id, action):
                error = None  # a double click: answer as the first click was answered
    if error is not None:
        # The queue's row is swapped with the referral as it is now (the rollback expired it):
        # whoever lost a race sees the state the other left, next to the message.
        if in_queue:
            return finish(_queue_row(referral, error, status, action))
        if wants_fragment():
            return error_response(status, error)
        if stale or withdrawn:
            return _stale_detail(referral_id, error)
        if status == 422 and (TRANSITIONS[action].reasons is not None or action == "approve"):
            return _reason_refused(referral_id, action, error, form)
        flash(error, "danger")
        return _see_other("referrals.detail", referral_id=referral_id)
    # The answer is made before the commit: nothing after it can fail the saved step.
    if in_queue:
        return finish(_queue_row(referral))
    return finish(_see_other("referrals.detail", referral_id=referral.id), str(ACTION_DONE[action]))
