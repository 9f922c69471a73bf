"""Household pages: list, intake, detail, edit, members, privacy records, joint care."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app import idempotency
from app.audit.models import AuditEvent
from app.audit.operations import commit_view, record_views, showed_household
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.clock import today
from app.errors import DomainError
from app.exports import ROW_LIMIT
from app.extensions import db
from app.households import background, bp, consents, disclosures, operations
from app.households import codice_fiscale as cf
from app.households.consents import add_months
from app.households.forms import (
    CloseForm,
    ConsentForm,
    DateOnlyForm,
    DecisionForm,
    HouseholdForm,
    IntakeForm,
    JointCareForm,
    MemberForm,
    NewMemberForm,
    ReopenForm,
    WithdrawConsentForm,
)
from app.households.listing import (
    HouseholdFilters,
    count_households,
    export_header,
    export_rows,
    filtered_households,
    newest_ids,
    page_of,
)
from app.households.models import (
    Consent,
    Household,
    HouseholdCoHolder,
    JointCareRequest,
    Person,
)
from app.households.policy import (
    USERS,
    can_close_household,
    can_edit_household,
    can_exercise_data_rights,
    can_manage_joint_care,
    can_reopen_household,
    editable_household_or_404,
    holds_household,
    visible_household_or_404,
    visible_person_or_404,
)
from app.households.sections import header_actions
from app.households.vocabulary import (
    CLOSING_REASONS,
    CONSENT_PURPOSES,
    CONSENT_STATE_BADGES,
    CONSENT_STATES,
    DISTRIBUTION_KINDS,
    EDUCATION,
    EMPLOYMENT,
    HOUSEHOLD_STATUSES,
    HOUSING,
    NEEDS,
    RELATIONS,
    SEXES,
)
from app.i18n import gettext as _
from app.notifications.operations import mark_read
from app.registry.models import CIRCOSCRIZIONI, Organization
from app.registry.vocabulary import LANGUAGES
from app.web.errors import error_response
from app.web.htmx import push_url, render, wants_fragment
from app.web.list_export import export_table
from app.web.paging import paginate
from app.web.transactions import finish, roll_back
from app.workflow import StaleState

PAGE_SIZE = 25
# What each create form's idempotency key is for (app.idempotency).
INTAKE, MEMBER, JOINT_CARE = "household_intake", "household_member", "joint_care_request"
CONSENT = "household_consent"
VOCABULARY = {
    "relations": RELATIONS,
    "sexes": SEXES,
    "employment": EMPLOYMENT,
    "education": EDUCATION,
    "housing": HOUSING,
    "needs_labels": NEEDS,
    "statuses": HOUSEHOLD_STATUSES,
    "kinds": DISTRIBUTION_KINDS,
    "languages": LANGUAGES,
    "circoscrizioni": CIRCOSCRIZIONI,
    "closing_reasons": CLOSING_REASONS,
}


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


# List ----------------------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@roles_required(*USERS)
def index() -> Response:
    """The list; the search form posts (its text never in a URL) and gets the list's URL back."""
    args = request.form if request.method == "POST" else request.args
    filters = HouseholdFilters.from_args(args, current_user.id)
    if request.method == "POST" and not wants_fragment():
        return _see_other("households.index", **filters.url_args())
    query = filtered_households(current_user, filters)
    paging = paginate(query, filters.pagina, PAGE_SIZE)
    rows = page_of(query, paging.number, PAGE_SIZE)
    record_views(
        "households_listed", rows, changes={"filters": filters.audit_args(pagina=paging.number)}
    )
    commit_view()
    response = render(
        "households/index.html",
        "households/_results.html",
        households=rows,
        filters=filters,
        **paging.context(),
        show_organization=current_user.has_role(Role.COORDINATOR),
        can_take_in_charge=current_user.has_role(Role.ENTITY_OPERATOR),
        **VOCABULARY,
    )
    if wants_fragment():
        push_url(response, "households.index", **filters.url_args())
    return response


# Exports of the list (personal data: the user's own scope, audited) -------------------------


def _household_export(kind: str) -> Response:
    """The list with its current filters, as a spreadsheet; the export is an audit event.

    With the background worker (REDIS_URL), a list longer than EXPORT_BACKGROUND_ROWS is
    prepared by the worker: the user follows its progress and downloads it when ready.
    """
    filters = HouseholdFilters.from_args(request.args, current_user.id)
    if background.available():
        total = count_households(current_user, filters)
        if background.worth_it(total):
            export = background.start(current_user, filters.audit_args(pagina=1), kind, total)
            return finish(_see_other("downloads.progress", export_id=export.id))
    ids = newest_ids(current_user, filters, ROW_LIMIT + 1)
    # The rows are the background export's too (app/households/listing.py).
    rows = list(export_rows(ids[:ROW_LIMIT]))
    return export_table(
        kind,
        filename=f"nuclei-{today().isoformat()}",
        title=_("Nuclei familiari"),
        header=export_header(),
        rows=rows,
        cut_at=ROW_LIMIT if len(ids) > ROW_LIMIT else None,
        action="households_exported",
        households=[row[0] for row in rows],
        changes={"filters": filters.audit_args(pagina=1)},
    )


@bp.get("/export.csv")
@roles_required(*USERS)
def export_csv() -> Response:
    return _household_export("csv")


@bp.get("/export.xlsx")
@roles_required(*USERS)
def export_xlsx() -> Response:
    return _household_export("xlsx")


# Intake --------------------------------------------------------------------------------------


@dataclass
class Conflict:
    """A member of the intake form who is already on file."""

    index: int
    person: Person
    own: bool
    # The person's household is closed and was the user's organization's: reopen it instead.
    reopen: bool = False


def _conflict(index: int, person: Person, org_id: int) -> Conflict | None:
    """What a codice fiscale on file means for this intake: None when the person's household
    is closed and was another organization's (the intake takes the person over, see
    operations.take_in_charge); a closed household of the user's own organization is to be
    reopened; an active one blocks (in charge here, or followed by another entity)."""
    household = person.household
    if household.status == "closed":
        if household.organization_id != org_id:
            return None
        return Conflict(index, person, own=True, reopen=True)
    return Conflict(index, person, holds_household(org_id, household))


def _conflicts(form: IntakeForm, org_id: int) -> tuple[list[Conflict], list[tuple[int, Person]]]:
    """Same codice fiscale already on file (blocking), and similar people (a warning)."""
    blocking: list[Conflict] = []
    similar: list[tuple[int, Person]] = []
    for index, entry in enumerate(form.members.entries):
        member = entry.form
        if member.codice_fiscale.data:
            existing = operations.person_with_codice_fiscale(member.codice_fiscale.data)
            if existing is not None:
                conflict = _conflict(index, existing, org_id)
                if conflict is not None:
                    blocking.append(conflict)
                continue
        people = operations.similar_people(
            member.first_name.data or "",
            member.last_name.data or "",
            member.birth_date.data,
            form.address.data,
        )
        # A colleague's intake committed between the two queries: the codice fiscale did not
        # match a moment ago, the similar people query (a later snapshot) shows the person.
        typed = member.codice_fiscale.data
        same = [p for p in people if typed and p.codice_fiscale == typed]
        if same:
            conflict = _conflict(index, same[0], org_id)
            if conflict is not None:
                blocking.append(conflict)
            continue
        similar.extend((index, person) for person in people)
    return blocking, similar


def _taken_over(form: IntakeForm, org_id: int) -> bool:
    """Whether the intake takes over a person from another organization's closed household."""
    for entry in form.members.entries:
        code = entry.form.codice_fiscale.data
        existing = operations.person_with_codice_fiscale(code) if code else None
        if existing is not None and _conflict(0, existing, org_id) is None:
            return True
    return False


def _intake_values(form: IntakeForm) -> dict[str, Any]:
    return {
        "address": (form.address.data or "").strip() or None,
        "circoscrizione": int(form.circoscrizione.data),
        "isee_value": form.isee_value.data,
        "isee_expires_on": form.isee_expires_on.data,
        "housing_situation": form.housing_situation.data or None,
        "needs": list(form.needs.data or []),
        "notes": (form.notes.data or "").strip() or None,
        "privacy_notice_given": form.privacy_notice_given.data,
        "privacy_notice_on": form.privacy_notice_on.data,
    }


def _explain(form: IntakeForm, blocking: list[Conflict]) -> None:
    for conflict in blocking:
        field = form.members.entries[conflict.index].form.codice_fiscale
        field.errors = [
            _("Questa persona era in carico al tuo ente in un nucleo ora chiuso: riapri il nucleo.")
            if conflict.reopen
            else _("Questa persona è già in carico al tuo ente.")
            if conflict.own
            else _(
                "Questa persona è già seguita da %(org)s.",
                org=conflict.person.household.organization.name,
            )
        ]


def _revealed(
    blocking: list[Conflict], similar: list[tuple[int, Person]], org_id: int
) -> list[int]:
    """The households of other entities that the answer names (their entity, never their data)."""
    return [c.person.household_id for c in blocking if not c.own] + [
        person.household_id
        for _index, person in similar
        if person.household.organization_id != org_id
    ]


def _replay(earlier: idempotency.Submission, message: str) -> Response:
    """A form sent again (a double click): where the first submission went, with its message."""
    flash(message, "success")
    return redirect(earlier.result_url or url_for("households.index"), code=303)  # type: ignore[return-value]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def new() -> Response:
    form = IntakeForm()
    if request.method == "GET":
        form.privacy_notice_on.data = today()
        form.members.entries[0].form.relation.data = "reference"
    blocking: list[Conflict] = []
    similar: list[tuple[int, Person]] = []
    if form.validate_on_submit():
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, INTAKE)
        if earlier is not None:
            return _replay(earlier, _("Nucleo preso in carico."))
        org_id = current_user.organization_id
        blocking, similar = _conflicts(form, org_id)
        _explain(form, blocking)
        if not blocking and (not similar or form.confirm_not_duplicate.data):
            taken_over = _taken_over(form, org_id)
            try:
                household = operations.take_in_charge(
                    org_id,
                    _intake_values(form),
                    [entry.form.values() for entry in form.members.entries],
                    current_user,
                    [person.id for _index, person in similar],
                )
            except (IntegrityError, operations.StillInCharge):
                # The same codice fiscale registered a moment ago by a colleague (or by this
                # form sent twice with another key), or the person's closed household reopened
                # meanwhile: answered as if it had been on file before.
                roll_back()
                blocking, similar = _conflicts(form, org_id)
                if not blocking:
                    raise
                _explain(form, blocking)
            else:
                url = url_for("households.detail", household_id=household.id)
                idempotency.complete(key, current_user, INTAKE, household, url)
                more = []
                if taken_over:
                    more.append(
                        (
                            _(
                                "La persona era in un nucleo chiuso di un altro ente: la sua "
                                "storia resta registrata e la Città è stata informata della "
                                "nuova presa in carico."
                            ),
                            "info",
                        )
                    )
                return finish(redirect(url, code=303), _("Nucleo preso in carico."), more=more)
        roll_back()  # the key stays unused: the corrected form may be sent again
        revealed = _revealed(blocking, similar, org_id)
        if revealed:
            wait = disclosures.retry_after(current_user)
            if wait is not None:
                response = error_response(
                    429,
                    _(
                        "Hai chiesto troppe volte in un'ora se una persona è già seguita da un "
                        "altro ente: riprova più tardi. La Città è informata di queste richieste."
                    ),
                )
                response.headers["Retry-After"] = str(wait)
                return finish(response)
            disclosures.disclose(current_user, revealed)
            commit_view()
    status = 422 if (form.errors or blocking or similar) and form.is_submitted() else 200
    return render(
        "households/new.html",
        form=form,
        blocking=blocking,
        similar=similar,
        joint_care_form=JointCareForm(),
        new_key=idempotency.new_key,
        status=status,
        **VOCABULARY,
    )


def _members_response(form: IntakeForm) -> Response:
    if wants_fragment():
        return render("households/_members.html", form=form, **VOCABULARY)
    return render(
        "households/new.html",
        form=form,
        blocking=[],
        similar=[],
        joint_care_form=JointCareForm(),
        new_key=idempotency.new_key,
        **VOCABULARY,
    )


@bp.post("/new/members/add")
@roles_required(Role.ENTITY_OPERATOR)
def add_member_row() -> Response:
    """Another member row, keeping everything already typed (the rows come back filled in)."""
    form = IntakeForm()
    if len(form.members.entries) < form.members.max_entries:
        form.members.append_entry()
        form.members.entries[-1].form.relation.data = "child"
    return _members_response(form)


@bp.post("/new/members/remove/<int:index>")
@roles_required(Role.ENTITY_OPERATOR)
def remove_member_row(index: int) -> Response:
    form = IntakeForm()
    entries = form.members.entries
    position = next((i for i, entry in enumerate(entries) if entry.id == f"members-{index}"), None)
    if position is not None and len(entries) > 1:
        entries.pop(position)
    return _members_response(form)


@bp.post("/joint-care")
@roles_required(Role.ENTITY_OPERATOR)
def request_joint_care() -> Response:
    """Ask the City for joint care of a person another entity follows (their data stays hidden)."""
    form = JointCareForm()
    if not form.validate_on_submit():
        abort(400)
    done = _("Richiesta di presa in carico congiunta inviata alla Città.")
    key = form.idempotency_key.data
    earlier = idempotency.claim(key, current_user, JOINT_CARE)
    if earlier is not None:
        return _replay(earlier, done)
    person = operations.person_with_codice_fiscale(cf.normalise(form.codice_fiscale.data or ""))
    if person is None:
        abort(404)
    joint = operations.request_joint_care(
        person.household,
        current_user.organization_id,
        current_user,
        (form.message.data or "").strip() or None,
    )
    idempotency.complete(key, current_user, JOINT_CARE, joint, url_for("households.index"))
    return finish(_see_other("households.index"), done)


@bp.post("/joint-care/<int:request_id>/<decision>")
@roles_required(Role.COORDINATOR)
def decide_joint_care(request_id: int, decision: str) -> Response:
    joint = db.session.get(JointCareRequest, request_id)
    if joint is None or decision not in ("accept", "decline"):
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    household_id = joint.household_id
    try:
        holder = operations.decide_joint_care(
            joint, decision == "accept", (form.note.data or "").strip() or None, current_user
        )
    except StaleState as stale:
        # The same answer, by the same person, a moment ago (a double click): done, not an error.
        wanted = "accepted" if decision == "accept" else "declined"
        if stale.current_status != wanted or joint.decided_by_id != current_user.id:
            raise
        roll_back()
        flash(_("Risposta registrata."), "success")
        return _see_other("households.detail", household_id=household_id)
    if holder is not None:
        message = _(
            "Presa in carico congiunta avviata: %(org)s ora segue il nucleo.",
            org=holder.organization.name,
        )
    else:
        message = _("Risposta registrata.")
    return finish(_see_other("households.detail", household_id=household_id), message)


@bp.post("/<int:household_id>/co-holders/<int:holder_id>/end")
@roles_required(Role.COORDINATOR)
def end_joint_care(household_id: int, holder_id: int) -> Response:
    """The City ends a joint care: the co-holding organization loses access to the household."""
    holder = db.session.get(HouseholdCoHolder, holder_id)
    if holder is None or holder.household_id != household_id:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    name = holder.organization.name
    done = _("Presa in carico congiunta terminata: %(org)s non vede più il nucleo.", org=name)
    back = _see_other("households.detail", household_id=household_id)
    try:
        operations.end_joint_care(holder, (form.note.data or "").strip() or None, current_user)
    except DomainError:
        if holder.ended_by_id != current_user.id:  # ended by someone else: say so (409)
            raise
        roll_back()  # ended by this user a moment ago (a double click): done
        flash(done, "success")
        return back
    return finish(back, done)


# Detail --------------------------------------------------------------------------------------


def _audit_trail(household: Household) -> list[AuditEvent]:
    person_ids = [m.id for m in household.members]
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    (AuditEvent.object_type == "household")
                    & (AuditEvent.object_id == household.id),
                    (AuditEvent.object_type == "person")
                    & AuditEvent.object_id.in_(person_ids or [-1]),
                    showed_household(household.id),
                )
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(50)
        )
    )


@bp.get("/<int:household_id>")
@roles_required(*USERS)
def detail(household_id: int) -> Response:
    from app.cards.views import card_context  # the cards package builds on this one

    household = visible_household_or_404(current_user, household_id)
    operations.record_view(household)
    mark_read(current_user, "household", household.id)  # its notifications (issue #26)
    commit_view()
    trail = _audit_trail(household)
    actors = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({e.actor_id for e in trail if e.actor_id} or {-1}))
        )
    }
    joint_requests = (
        db.session.scalars(
            select(JointCareRequest)
            .where(JointCareRequest.household_id == household.id)
            .order_by(JointCareRequest.created_at.desc())
        ).all()
        if current_user.has_role(Role.COORDINATOR)
        else []
    )
    return render(
        "households/detail.html",
        household=household,
        header_actions=header_actions(current_user, household),
        trail=trail,
        actors=actors,
        joint_requests=joint_requests,
        today=today(),
        can_edit=can_edit_household(current_user, household),
        **card_context(household, can_edit_household(current_user, household)),
        can_close=can_close_household(current_user, household),
        can_reopen=can_reopen_household(current_user, household),
        co_holders=operations.co_holders(household),
        can_manage_joint_care=can_manage_joint_care(current_user),
        can_exercise_rights=can_exercise_data_rights(current_user),
        **_consents_context(household),
        date_form=DateOnlyForm(formdata=None, on=today()),
        decision_form=DecisionForm(formdata=None),
        **VOCABULARY,
    )


# Editing (owning organization only) ----------------------------------------------------------


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def edit(household_id: int) -> Response:
    household = editable_household_or_404(current_user, household_id)
    form = HouseholdForm(obj=household if request.method == "GET" else None)
    if request.method == "GET":
        form.circoscrizione.data = str(household.circoscrizione)
        form.housing_situation.data = household.housing_situation or ""
    if form.validate_on_submit():
        values = {
            "address": (form.address.data or "").strip() or None,
            "circoscrizione": int(form.circoscrizione.data),
            "isee_value": form.isee_value.data,
            "isee_expires_on": form.isee_expires_on.data,
            "housing_situation": form.housing_situation.data or None,
            "needs": list(form.needs.data or []),
            "notes": (form.notes.data or "").strip() or None,
        }
        changes = operations.update_household(household, values)
        return finish(
            _see_other("households.detail", household_id=household.id),
            _("Dati del nucleo aggiornati.") if changes else _("Nessuna modifica da salvare."),
        )
    record_views("household_edit_viewed", [household], household)
    commit_view()
    return render(
        "households/edit.html", form=form, household=household, status=422 if form.errors else 200
    )


def _member_conflict(form: MemberForm, person_id: int | None) -> bool:
    code = form.codice_fiscale.data
    if not code:
        return False
    existing = operations.person_with_codice_fiscale(code, exclude_person_id=person_id)
    if existing is None:
        return False
    form.codice_fiscale.errors = [_("Questo codice fiscale è già registrato per un'altra persona.")]
    return True


@bp.route("/<int:household_id>/members/new", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def new_member(household_id: int) -> Response:
    household = editable_household_or_404(current_user, household_id)
    form = NewMemberForm()
    if request.method == "GET":
        form.relation.data = "child"
    done = _("Componente aggiunto.")
    if form.validate_on_submit():
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, MEMBER)
        if earlier is not None:
            return _replay(earlier, done)
        if not _member_conflict(form, None):
            try:
                person = operations.add_member(household, form.values())
            except DomainError as error:  # a second reference person: said next to the field
                form.relation.errors = [error.message]
            except IntegrityError:  # the same codice fiscale saved a moment ago elsewhere
                roll_back()
                if not _member_conflict(form, None):
                    raise
            else:
                url = url_for("households.detail", household_id=household.id)
                idempotency.complete(key, current_user, MEMBER, person, url)
                return finish(redirect(url, code=303), done)
        roll_back()  # the key stays unused: the corrected form may be sent again
    record_views("member_form_viewed", [household], household)
    commit_view()
    return render(
        "households/member_form.html", form=form, household=household, person=None,
        status=422 if form.errors else 200,
    )  # fmt: skip


@bp.route("/<int:household_id>/members/<int:person_id>", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def edit_member(household_id: int, person_id: int) -> Response:
    household = editable_household_or_404(current_user, household_id)
    person = visible_person_or_404(current_user, household, person_id)
    form = MemberForm(obj=person if request.method == "GET" else None)
    if form.validate_on_submit() and not _member_conflict(form, person.id):
        try:
            changes = operations.update_member(person, form.values())
        except DomainError as error:
            roll_back()
            form.relation.errors = [error.message]
        else:
            return finish(
                _see_other("households.detail", household_id=household.id),
                _("Componente aggiornato.") if changes else _("Nessuna modifica da salvare."),
            )
    record_views("member_edit_viewed", [household], person)
    commit_view()
    return render(
        "households/member_form.html", form=form, household=household, person=person,
        status=422 if form.errors else 200,
    )  # fmt: skip


# Privacy records and closing -----------------------------------------------------------------


def _household_action(
    household_id: int,
    form: DateOnlyForm,
    act: Callable[[Household, Any], None],
    done: str,
    only_owner: bool = False,
) -> Response:
    """The small privacy and closing forms of the detail page: validate, act, commit, go back.
    A refused value comes back as a message on the detail page; nothing is changed."""
    household = editable_household_or_404(current_user, household_id)
    if only_owner and not can_close_household(current_user, household):
        abort(404)
    back = _see_other("households.detail", household_id=household.id)
    if form.validate_on_submit():
        act(household, form)
        return finish(back, done)
    flash(
        " ".join(str(e) for field in form for e in field.errors) or _("Dati non validi."),
        "danger",
    )
    return back


@bp.post("/<int:household_id>/privacy-notice")
@roles_required(Role.ENTITY_OPERATOR)
def privacy_notice(household_id: int) -> Response:
    return _household_action(
        household_id,
        DateOnlyForm(),
        lambda household, form: operations.record_privacy_notice(
            household, form.on.data, current_user
        ),
        _("Consegna dell'informativa registrata."),
    )


def _consent_form(formdata: Any = None) -> ConsentForm:
    """The "Registra consenso" form: signed today, expiring in DEFAULT_MONTHS (a proposal)."""
    day = today()
    form = ConsentForm(
        formdata=formdata,
        prefix="consent",
        given_on=day,
        expires_on=add_months(day, consents.DEFAULT_MONTHS),
    )
    form.recipient.choices = [("", _("Tutta la rete"))] + [
        (str(org_id), name)
        for org_id, name in db.session.execute(
            select(Organization.id, Organization.name)
            .where(
                Organization.active.is_(True),
                or_(Organization.is_job_service, Organization.is_housing_provider),
            )
            .order_by(Organization.name)
        )
    ]
    return form


def _consents_context(household: Household, form: ConsentForm | None = None) -> dict[str, Any]:
    day = today()
    ledger = db.session.scalars(
        select(Consent)
        .where(Consent.household_id == household.id)
        .order_by(Consent.given_on.desc(), Consent.id.desc())
    ).all()
    return {
        "consents": [(c, consents.consent_state(c, day)) for c in ledger],
        "consent_form": form or _consent_form(),
        "withdraw_form": WithdrawConsentForm(formdata=None),
        "consent_purposes": CONSENT_PURPOSES,
        "consent_states": CONSENT_STATES,
        "consent_badges": CONSENT_STATE_BADGES,
    }


def _consents_answer(
    household: Household, done: str, form: ConsentForm | None = None, save: bool = False
) -> Response:
    """After a consent is recorded or withdrawn: the section again (htmx) or the page (303).
    With `save`, the answer is prepared and then the transaction committed (`finish`)."""
    if wants_fragment():
        section = render(
            "households/detail.html",
            fragment="households/_consents.html",
            status=422 if form is not None and form.errors else 200,
            done=done if form is None or not form.errors else None,
            household=household,
            can_edit=can_edit_household(current_user, household),
            **_consents_context(household, form),
        )
        return finish(section) if save else section
    back = _see_other("households.detail", household_id=household.id)
    if form is not None and form.errors:
        flash(
            " ".join(str(e) for field in form for e in field.errors) or _("Dati non validi."),
            "danger",
        )
        return back
    if save:
        return finish(back, done)
    flash(done, "success")
    return back


@bp.post("/<int:household_id>/consents")
@roles_required(Role.ENTITY_OPERATOR)
def record_consent(household_id: int) -> Response:
    household = editable_household_or_404(current_user, household_id)
    form = _consent_form(request.form)
    if not form.validate_on_submit():
        return _consents_answer(household, "", form)
    key = form.idempotency_key.data
    earlier = idempotency.claim(key, current_user, CONSENT)
    if earlier is not None:  # a double click: answer as the first click was answered
        return _consents_answer(household, _("Consenso registrato."))
    try:
        consent = operations.record_consent(
            household,
            form.purpose.data,
            int(form.recipient.data) if form.recipient.data else None,
            form.given_on.data,
            form.expires_on.data,
            form.signed_form.data,
            current_user,
        )
    except DomainError as error:
        roll_back()
        form.purpose.errors = [error.message]
        return _consents_answer(household, "", form)
    url = url_for("households.detail", household_id=household.id)
    idempotency.complete(key, current_user, CONSENT, consent, url)
    return _consents_answer(household, _("Consenso registrato."), save=True)


@bp.post("/<int:household_id>/consents/<int:consent_id>/withdraw")
@roles_required(Role.ENTITY_OPERATOR)
def withdraw_consent(household_id: int, consent_id: int) -> Response:
    household = editable_household_or_404(current_user, household_id)
    consent = db.session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.household_id == household.id)
    )
    if consent is None:
        abort(404)
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        if wants_fragment():
            return error_response(422, " ".join(str(e) for e in form.confirm.errors))
        flash(" ".join(str(e) for f in form for e in f.errors) or _("Dati non validi."), "danger")
        return _see_other("households.detail", household_id=household.id)
    try:
        operations.withdraw_consent(consent, today(), current_user)
    except DomainError as error:
        roll_back()
        return error_response(409, error.message)
    return _consents_answer(
        household,
        _("Consenso revocato: da oggi i dati non si condividono più per questa finalità."),
        save=True,
    )


@bp.route("/<int:household_id>/close", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def close(household_id: int) -> Response:
    """Closing asks for a reason on its own page: the page is the confirmation step."""
    household = editable_household_or_404(current_user, household_id)
    if not can_close_household(current_user, household):
        abort(404)
    form = CloseForm()
    if request.method == "GET":
        form.on.data = today()
    if form.validate_on_submit():
        try:
            operations.close_household(
                household,
                form.on.data,
                form.reason.data,
                (form.note.data or "").strip() or None,
            )
        except StaleState as stale:
            if stale.current_status != "closed":
                raise
            roll_back()  # closed a moment ago (a double click): done
            flash(_("Presa in carico chiusa."), "success")
            return _see_other("households.detail", household_id=household.id)
        return finish(
            _see_other("households.detail", household_id=household.id),
            _("Presa in carico chiusa."),
        )
    record_views("household_close_viewed", [household], household)
    commit_view()
    return render(
        "households/close.html",
        form=form,
        household=household,
        status=422 if form.errors else 200,
        **VOCABULARY,
    )


@bp.route("/<int:household_id>/reopen", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR, Role.COORDINATOR)
def reopen(household_id: int) -> Response:
    """The owning organization or the City takes a closed household back in charge."""
    household = visible_household_or_404(current_user, household_id)
    if not can_reopen_household(current_user, household):
        abort(404)
    form = ReopenForm()
    if form.validate_on_submit():
        operations.reopen_household(household, form.note.data.strip(), current_user)
        return finish(
            _see_other("households.detail", household_id=household.id),
            _("Nucleo riaperto: è di nuovo in carico."),
        )
    record_views("household_reopen_viewed", [household], household)
    commit_view()
    return render(
        "households/reopen.html",
        form=form,
        household=household,
        status=422 if form.errors else 200,
        **VOCABULARY,
    )
