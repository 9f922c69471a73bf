"""Hostile input: random, malicious and oversized values posted to every form of the portal.

Every POST route of the role × route table that takes form data is fuzzed with hypothesis,
starting from the values the form itself offers and replacing some of them with NUL bytes,
right-to-left overrides, emoji, long strings, SQL and markup fragments, htmx attributes, odd
numbers and dates. The portal must never answer 500 and never echo the markup unescaped, in the
answer or on the page that shows what was saved. Bodies over MAX_CONTENT_LENGTH get 413.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.admin import operations as admin_operations
from app.clock import today
from app.db import utcnow
from app.extensions import db as _db
from app.households.models import Consent, HouseholdCoHolder, JointCareRequest
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.projects import operations as project_operations
from app.referrals.models import Referral
from tests import factories
from tests.conftest import csrf_token_from
from tests.test_access_matrix import MATRIX

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HTMX = '<x hx-get="/admin" hx-trigger="load">'
# What must never come back raw: the escaped forms (&lt;script&gt;...) are fine.
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror", '<x hx-get="/admin"')

HOSTILE = [
    SCRIPT,
    IMG,
    HTMX,
    f"Mario{SCRIPT}Rossi",
    "' OR 1=1 --",
    "'; DROP TABLE household; --",
    '" OR ""="',
    "Rossi\x00Maria",
    "\x00",
    "\u202eanitsiR\u202c",
    "\u202dRSSMRA80A41L219X",
    "😀👨‍👩‍👧‍👦",
    "x" * 10_000,
    "9" * 400,
    "-1",
    "-999999999999999999999",
    "1e308",
    "NaN",
    "0",
    "0000-00-00",
    "9999-12-31",
    "2026-02-30",
    "31/12/9999",
    "",
    " ",
    "%00",
    "../../etc/passwd",
    "{{ 7*7 }}",
    "javascript:alert(1)",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8", exclude_categories=("Cs",)),
            st.sampled_from(["\x00", "\u202e", "\u200f", "<", ">", "'", '"', "&", "😀"]),
        ),
        max_size=60,
    ),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.sampled_from(HOSTILE)),
)

HTMX_HEADERS = {"HX-Request": "true", "HX-Request-Type": "partial"}

# The forms of a page ------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]]


class FormParser(HTMLParser):
    """Each <form>'s action and its fields, with the values a browser would submit by default."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str, value: str | None) -> None:
        if self._form is None or not name:
            return
        values = self._form.fields.setdefault(name, [])
        if value is not None:
            values.append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), {})
            self.forms.append(self._form)
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in {"submit", "button", "reset", "file", "image"}:
                return
            if kind in {"checkbox", "radio"}:
                self._add(a["name"], a.get("value", "on") if "checked" in a else None)
            else:
                self._add(a["name"], a.get("value", ""))
        elif tag == "select" and "name" in a:
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and "name" in a:
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected]
            if not chosen and self._options:
                chosen = [self._options[0][0]]
            self._add(self._select, None)
            for value in chosen:
                self._add(self._select, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, "".join(self._text).lstrip("\n"))
            self._textarea = None


def form_on(html: str, action: str, page_path: str) -> dict[str, list[str]]:
    """The fields of the form that posts to `action` (or to the page itself)."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        target = form.action.split("?")[0] or page_path
        if target == action:
            return form.fields
    return {}


# Which role uses each form, where the form is shown, what shows the saved values ------------


@dataclass(frozen=True)
class Target:
    role: str  # "anonymous", "admin", "coordinator", "operator" (owner of {org}), "hub", "provider"
    post: str  # the path posted to; MATRIX's path unless the action needs another
    page: str | None = None  # the GET page that holds the form; None: `fields` below
    fields: tuple[str, ...] = ()  # extra (or the only) field names, for POST-only routes
    shows: str | None = None  # the page that shows what the form saved
    source: str | None = None  # the form on `page` whose fields are sent, when not `post`'s


OWN_ORG = "/entities/{org}"
HOUSEHOLD = "/households/{household}"
PROJECT = "/projects/{project}"

TARGETS: dict[tuple[str, str], Target] = {
    ("web.set_language", "POST"): Target("coordinator", "/lingua", fields=("lang", "next")),
    ("auth.login", "POST"): Target("anonymous", "/login", page="/login"),
    ("auth.login_totp", "POST"): Target("anonymous", "/login/2fa", fields=("code",)),
    ("auth.totp_setup", "POST"): Target("coordinator", "/account/2fa", page="/account/2fa"),
    ("auth.totp_disable", "POST"): Target(
        "coordinator", "/account/2fa/disable", fields=("password",)
    ),
    ("auth.recovery_codes", "POST"): Target(
        "coordinator", "/account/2fa/recovery-codes", fields=("codes_password",)
    ),
    ("auth.account", "POST"): Target("coordinator", "/account", page="/account"),
    ("notifications.email_preference", "POST"): Target(
        "coordinator", "/notifications/email", page="/account", shows="/account"
    ),
    ("admin.new_user", "POST"): Target(
        "admin", "/admin/users/new", page="/admin/users/new", shows="/admin/"
    ),
    ("admin.settings_page", "POST"): Target(
        "admin", "/admin/settings", page="/admin/settings", shows="/admin/settings"
    ),
    ("admin.refuse_request", "POST"): Target(
        "coordinator", "/admin/requests/{account_request}/refuse", fields=("reason",)
    ),
    ("admin.edit_user", "POST"): Target(
        "admin", "/admin/users/{user}", page="/admin/users/{user}", shows="/admin/users/{user}"
    ),
    ("registry.new_organization", "POST"): Target(
        "coordinator", "/entities/new", page="/entities/new", shows="/entities/"
    ),
    ("registry.edit_organization", "POST"): Target(
        "operator", "/entities/{org}/edit", page="/entities/{org}/edit", shows=OWN_ORG
    ),
    ("registry.edit_accreditation", "POST"): Target(
        "coordinator",
        "/entities/{org}/accreditation",
        page="/entities/{org}/accreditation",
        shows=OWN_ORG,
    ),
    ("registry.accreditation_action", "POST"): Target(
        "coordinator", "/entities/{org}/accreditation/suspend", fields=("reason",), shows=OWN_ORG
    ),
    ("registry.new_service", "POST"): Target(
        "operator",
        "/entities/{org}/services/new",
        page="/entities/{org}/services/new",
        shows=OWN_ORG,
    ),
    ("registry.edit_service", "POST"): Target(
        "operator",
        "/entities/{org}/services/{service}",
        page="/entities/{org}/services/{service}",
        shows=OWN_ORG,
    ),
    ("registry.new_site", "POST"): Target(
        "operator", "/entities/{org}/sites/new", page="/entities/{org}/sites/new", shows=OWN_ORG
    ),
    ("registry.edit_site", "POST"): Target(
        "operator",
        "/entities/{org}/sites/{site}",
        page="/entities/{org}/sites/{site}",
        shows=OWN_ORG,
    ),
    ("households.index", "POST"): Target(
        "operator", "/households/", fields=("q", "circ", "bisogno", "stato")
    ),
    ("households.new", "POST"): Target(
        "operator", "/households/new", page="/households/new", shows="/households/"
    ),
    ("households.add_member_row", "POST"): Target(
        "operator", "/households/new/members/add", page="/households/new", source="/households/new"
    ),
    ("households.remove_member_row", "POST"): Target(
        "operator",
        "/households/new/members/remove/0",
        page="/households/new",
        source="/households/new",
    ),
    ("households.request_joint_care", "POST"): Target(
        "operator", "/households/joint-care", fields=("codice_fiscale", "message")
    ),
    ("households.decide_joint_care", "POST"): Target(
        "coordinator", "/households/joint-care/{joint}/decline", fields=("note",)
    ),
    ("households.end_joint_care", "POST"): Target(
        "coordinator", "/households/{household}/co-holders/{co_holder}/end", fields=("note",)
    ),
    ("households.edit", "POST"): Target(
        "operator",
        "/households/{household}/edit",
        page="/households/{household}/edit",
        shows=HOUSEHOLD,
    ),
    ("households.new_member", "POST"): Target(
        "operator",
        "/households/{household}/members/new",
        page="/households/{household}/members/new",
        shows=HOUSEHOLD,
    ),
    ("households.edit_member", "POST"): Target(
        "operator",
        "/households/{household}/members/{person}",
        page="/households/{household}/members/{person}",
        shows=HOUSEHOLD,
    ),
    ("households.privacy_notice", "POST"): Target(
        "operator", "/households/{household}/privacy-notice", page=HOUSEHOLD, fields=("on",)
    ),
    ("households.record_consent", "POST"): Target(
        "operator",
        "/households/{household}/consents",
        page=HOUSEHOLD,
        fields=(
            "consent-purpose",
            "consent-recipient",
            "consent-given_on",
            "consent-expires_on",
            "consent-signed_form",
        ),
    ),
    ("households.withdraw_consent", "POST"): Target(
        "operator",
        "/households/{household}/consents/{consent}/withdraw",
        page=HOUSEHOLD,
        fields=("confirm",),
    ),
    ("households.close", "POST"): Target(
        "operator", "/households/{household}/close", page="/households/{household}/close"
    ),
    ("households.reopen", "POST"): Target(
        "operator",
        "/households/{closed_household}/reopen",
        page="/households/{closed_household}/reopen",
        shows="/households/{closed_household}",
    ),
    ("referrals.new", "POST"): Target(
        "operator",
        "/referrals/new?household={household}",
        page="/referrals/new?household={household}&need=orientation",
        fields=("service", "action"),
        shows="/referrals/",
        source="/referrals/new",
    ),
    ("referrals.act", "POST"): Target(
        "coordinator",
        "/referrals/{referral}/reject",
        fields=("reason_code", "note", "row"),
        shows="/referrals/{referral}",
    ),
    ("referrals.bulk_approve", "POST"): Target(
        "coordinator", "/referrals/bulk-approve", fields=("ids",), shows="/referrals/"
    ),
    ("housing.new_unit", "POST"): Target(
        "provider", "/housing/units/new", page="/housing/units/new", shows="/housing/?miei=1"
    ),
    ("housing.edit_unit", "POST"): Target(
        "provider",
        "/housing/units/{unit}/edit",
        page="/housing/units/{unit}/edit",
        shows="/housing/units/{unit}",
    ),
    ("housing.vacancies", "POST"): Target(
        "provider",
        "/housing/units/{unit}/vacancies",
        page="/housing/units/{unit}",
        fields=("version", "delta", "vacancies", "confirm", "back"),
        shows="/housing/?miei=1",
    ),
    ("housing.new_placement", "POST"): Target(
        "operator",
        "/housing/placements/new?household={household}",
        fields=("unit_id", "motivation", "circ", "tipo", "gruppo", "accessibile", "riproponi"),
        shows="/housing/placements/",
    ),
    ("housing.placement_step", "POST"): Target(
        "coordinator",
        "/housing/placements/{placement}/reject",
        fields=("reason_code", "note", "on"),
        shows="/housing/placements/{placement}",
    ),
    ("housing.record_check", "POST"): Target(
        "operator",
        "/housing/placements/{placement}/checks/{check}",
        fields=("done_on", "wellbeing", "notes"),
        shows="/housing/placements/{placement}",
    ),
    ("housing.new_risk_case", "POST"): Target(
        "operator",
        "/housing/risk-cases/new?household={household}",
        page="/housing/risk-cases/new?household={household}",
        source="/housing/risk-cases/new",
        shows="/housing/risk-cases",
    ),
    ("housing.edit_risk_case", "POST"): Target(
        "operator",
        "/housing/risk-cases/{risk_case}/edit",
        page="/housing/risk-cases/{risk_case}",
        shows="/housing/risk-cases/{risk_case}",
    ),
    ("housing.close_risk_case", "POST"): Target(
        "operator",
        "/housing/risk-cases/{risk_case}/close",
        page="/housing/risk-cases/{risk_case}",
        shows="/housing/risk-cases/{risk_case}",
    ),
    ("projects.new", "POST"): Target(
        "operator",
        "/projects/new?household={household}",
        page="/projects/new?household={household}",
        shows="/projects/",
        source="/projects/new",
    ),
    ("projects.edit", "POST"): Target(
        "operator", PROJECT + "/edit", page=PROJECT + "/edit", shows=PROJECT
    ),
    ("projects.act", "POST"): Target(
        "operator", PROJECT + "/submit", fields=("note",), shows=PROJECT
    ),
    ("projects.add_goal", "POST"): Target(
        "operator", PROJECT + "/goals", page=PROJECT, shows=PROJECT
    ),
    ("projects.set_goal_status", "POST"): Target(
        "operator", PROJECT + "/goals/{goal}", page=PROJECT, shows=PROJECT
    ),
    ("projects.add_meeting", "POST"): Target(
        "operator", PROJECT + "/meetings", page=PROJECT, shows=PROJECT
    ),
    ("projects.add_line", "POST"): Target(
        "operator", PROJECT + "/lines", page=PROJECT, shows=PROJECT
    ),
    ("projects.save_line", "POST"): Target(
        "operator", PROJECT + "/lines/{line}", page=PROJECT + "/lines/{line}/edit", shows=PROJECT
    ),
    ("projects.request_increase", "POST"): Target(
        "operator",
        "/projects/{approved_project}/lines/{approved_line}/increase",
        page="/projects/{approved_project}/lines/{approved_line}/edit",
        shows="/projects/{approved_project}",
    ),
    ("distributions.find", "POST"): Target("hub", "/distributions/find", fields=("q",)),
    # A card read at the counter, and the household's card (#25).
    ("distributions.scan", "POST"): Target("hub", "/distributions/scan", fields=("token",)),
    ("cards.issue", "POST"): Target(
        "hub", "/households/{household}/card", page=HOUSEHOLD, shows=HOUSEHOLD
    ),
    ("cards.revoke", "POST"): Target(
        "hub", "/households/{household}/card/revoke", fields=("reason", "note", "action")
    ),
    # Hub stock (#25).
    ("supplies.new_delivery", "POST"): Target(
        "hub", "/supplies/deliveries/new", page="/supplies/deliveries/new", shows="/supplies/"
    ),
    ("supplies.new_adjustment", "POST"): Target(
        "hub", "/supplies/adjustments/new", page="/supplies/adjustments/new", shows="/supplies/"
    ),
    ("supplies.items", "POST"): Target(
        "coordinator", "/supplies/items", page="/supplies/items", shows="/supplies/items"
    ),
    ("distributions.record", "POST"): Target(
        "hub",
        "/distributions/",
        page="/distributions/form?household_id={household}",
        fields=(
            "household_id",
            "site_id",
            "distributed_on",
            "kind",
            "quantity",
            "override_reason",
        ),
        shows="/distributions/",
    ),
}

# POST routes that take no form data beyond the CSRF token: nothing to fuzz.
NO_FORM_DATA = {
    ("auth.logout", "POST"),
    ("admin.disable_user", "POST"),
    ("admin.enable_user", "POST"),
    ("admin.reset_password", "POST"),
    ("admin.confirm_request", "POST"),
    ("admin.unlink_identity", "POST"),
    ("registry.confirm_service", "POST"),
    ("rights.anonymise", "POST"),
    ("notifications.read_all", "POST"),
    ("projects.remove_line", "POST"),
    ("projects.decide_increase", "POST"),
    # The offline counter: its sync is JSON and its entries' forms are fuzzed in
    # tests/test_counter.py (test_odd_input_never_breaks_the_counter); closing and cancelling
    # send no data.
    ("counter.sync", "POST"),
    ("counter.resolve", "POST"),
    ("counter.close", "POST"),
    ("counter.cancel", "POST"),
}


def test_every_post_route_is_fuzzed():
    posts = {key for key in MATRIX if key[1] == "POST"}
    assert posts - NO_FORM_DATA == TARGETS.keys()


# The world each form works on -----------------------------------------------------------------


@pytest.fixture
def world(client, login_as):
    """Log in as the role the target needs; build the objects its paths name."""

    def build(role: str) -> dict[str, Any]:
        hub_org = factories.organization(is_hub=True, is_job_service=True)
        factories.accreditation(hub_org)
        service = factories.service(hub_org)
        site = factories.site(hub_org, is_hub=True)
        household = factories.household(hub_org, members=2)
        other = factories.household(factories.organization(is_hub=True))
        closed_household = factories.household(hub_org, status="closed", closed_on=today())
        joint = JointCareRequest(household_id=other.id, requesting_organization_id=hub_org.id)
        _db.session.add(joint)
        co_holder = HouseholdCoHolder(
            household_id=household.id, organization_id=factories.organization(is_hub=True).id
        )
        _db.session.add(co_holder)
        somebody = factories.user(role="entity_operator", organization=hub_org)
        referral = Referral(
            household_id=household.id,
            person_id=household.members[0].id,
            from_organization_id=hub_org.id,
            service_id=service.id,
            to_organization_id=hub_org.id,
            need="orientation",
            motivation="Orientamento",
            status="submitted",
            submitted_at=utcnow(),
        )
        _db.session.add(referral)
        provider_org = factories.organization(is_housing_provider=True)
        unit = HousingUnit(
            provider_id=provider_org.id,
            name="Alloggio di prova",
            kind="temporary_flat",
            address="Via Prova 1",
            circoscrizione=2,
            capacity=3,
            vacancies=1,
            target_groups=[],
        )
        _db.session.add(unit)
        _db.session.flush()
        placement = Placement(
            household_id=household.id,
            unit_id=unit.id,
            provider_id=provider_org.id,
            status="active",
            moved_in_on=today(),
        )
        _db.session.add(placement)
        _db.session.flush()
        check = WellbeingCheck(placement_id=placement.id, due_on=today())
        risk_case = HousingRiskCase(
            household_id=household.id, organization_id=hub_org.id, kind="other", status="open"
        )
        _db.session.add_all([check, risk_case])
        owner = factories.user(role="entity_operator", organization=hub_org)
        city = factories.user(role="coordinator")
        project = project_operations.create(
            household, household.members[0], {"title": "Progetto"}, owner
        )
        goal = project_operations.add_goal(project, "Lavoro", None, owner)
        line = project_operations.add_line(
            project,
            {"category": "training", "description": "Corso", "planned": Decimal("100")},
            owner,
        )
        approved = project_operations.create(
            household, household.members[1], {"title": "Approvato"}, owner
        )
        project_operations.add_goal(approved, "Casa", None, owner)
        approved_line = project_operations.add_line(
            approved,
            {"category": "transport", "description": "Bus", "planned": Decimal("50")},
            owner,
        )
        project_operations.transition(approved, "submit", owner)
        project_operations.transition(approved, "approve", city)
        account_request = admin_operations.request_password_reset(
            somebody, factories.user(role="admin")
        )
        _db.session.commit()
        if role in {"operator", "hub"}:
            login_as("entity_operator", org=hub_org)
        elif role == "provider":
            login_as("housing_provider", org=provider_org)
        elif role != "anonymous":
            login_as(role)
        return {
            "org": hub_org.id,
            "service": service.id,
            "site": site.id,
            "household": household.id,
            "closed_household": closed_household.id,
            "person": household.members[0].id,
            "joint": joint.id,
            "co_holder": co_holder.id,
            "consent": _db.session.scalar(
                select(Consent.id).where(Consent.household_id == household.id).limit(1)
            ),
            "user": somebody.id,
            "referral": referral.id,
            "unit": unit.id,
            "placement": placement.id,
            "check": check.id,
            "risk_case": risk_case.id,
            "project": project.id,
            "goal": goal.id,
            "line": line.id,
            "approved_project": approved.id,
            "approved_line": approved_line.id,
            "account_request": account_request.id,
        }

    return build


def _baseline(client, target: Target, ids: dict[str, Any]) -> tuple[dict[str, list[str]], str]:
    """The form's own fields and values, and a CSRF token of this session."""
    post = target.post.format(**ids)
    fields: dict[str, list[str]] = {}
    if target.page:
        page_path = target.page.format(**ids)
        response = client.get(page_path)
        assert response.status_code == 200, (page_path, response.status_code)
        html = response.get_data(as_text=True)
        source = target.source.format(**ids) if target.source else post
        fields = form_on(html, source, page_path.split("?")[0])
        assert fields or target.fields, f"no form posting to {post} on {page_path}"
        token = csrf_token_from(html)
    else:
        token = csrf_token_from(
            client.get("/login" if target.role == "anonymous" else "/account").get_data(
                as_text=True
            )
        )
    for name in target.fields:
        fields.setdefault(name, [""])
    fields.pop("csrf_token", None)
    return fields, token


def assert_safe(response, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code)
    body = response.get_data(as_text=True)
    for raw in RAW_MARKUP:
        assert raw not in body, (where, raw)


TARGET_KEYS = sorted(TARGETS)


@pytest.mark.parametrize("key", TARGET_KEYS, ids=[k[0] for k in TARGET_KEYS])
def test_hostile_values_never_break_a_form(app, client, world, key):
    target = TARGETS[key]
    ids = world(target.role)
    baseline, token = _baseline(client, target, ids)
    post = target.post.format(**ids)
    shows = target.shows.format(**ids) if target.shows else None
    names = sorted(baseline)
    values = hostile_text

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(data=st.data())
    def post_hostile(data: st.DataObject) -> None:
        chosen = data.draw(st.sets(st.sampled_from(names), min_size=1), label="fields")
        form: dict[str, Any] = {"csrf_token": token}
        for name in names:
            form[name] = data.draw(values, label=name) if name in chosen else baseline[name]
        htmx = data.draw(st.booleans(), label="htmx")
        response = client.post(post, data=form, headers=HTMX_HEADERS if htmx else {})
        assert_safe(response, post)
        if shows:
            assert_safe(client.get(shows), shows)

    post_hostile()


@pytest.mark.parametrize("key", TARGET_KEYS, ids=[k[0] for k in TARGET_KEYS])
def test_a_megabyte_in_every_field_is_refused_calmly(client, world, key):
    target = TARGETS[key]
    ids = world(target.role)
    baseline, token = _baseline(client, target, ids)
    form = dict.fromkeys(baseline, "é" * 500000)  # 1 MB of UTF-8 in each field
    form["csrf_token"] = token
    response = client.post(target.post.format(**ids), data=form)
    assert_safe(response, target.post)


# Body size limit ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_body_over_the_limit_gets_the_italian_413(app, client, login_as, htmx):
    login_as("coordinator")
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 4 * 1024 * 1024
    response = client.post(
        "/entities/new",
        data={"description": "x" * (limit + 1)},
        headers=HTMX_HEADERS if htmx else {},
    )
    assert response.status_code == 413
    assert "Dati troppo grandi" in response.get_data(as_text=True)


def test_a_body_over_the_limit_is_refused_even_before_login(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"username": "x" * (limit + 1), "password": "x"})
    assert response.status_code == 413
    assert "Dati troppo grandi" in response.get_data(as_text=True)


# Stored markup comes back escaped ---------------------------------------------------------------


MARKUP = "Nota <b>x</b> " + SCRIPT


def _save_and_show(client, form_page: str, field: str, shows: str) -> str:
    html = client.get(form_page).get_data(as_text=True)
    fields = form_on(html, form_page, form_page)
    fields[field] = [MARKUP]
    response = client.post(form_page, data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(shows).get_data(as_text=True)


def test_household_notes_with_markup_are_shown_escaped(client, login_as, db):
    org = factories.organization(is_hub=True)
    household = factories.household(org)
    _db.session.commit()
    login_as("entity_operator", org=org)
    body = _save_and_show(
        client, f"/households/{household.id}/edit", "notes", f"/households/{household.id}"
    )
    assert "Nota &lt;b&gt;x&lt;/b&gt;" in body
    assert "<b>x</b>" not in body
    assert SCRIPT not in body


def test_organization_description_with_markup_is_shown_escaped(client, login_as, db):
    org = factories.organization(legal_form="odv", address="Via Roma 1", postal_code="10121")
    _db.session.commit()
    login_as("coordinator")
    body = _save_and_show(client, f"/entities/{org.id}/edit", "description", f"/entities/{org.id}")
    assert "Nota &lt;b&gt;x&lt;/b&gt;" in body
    assert "<b>x</b>" not in body
    assert SCRIPT not in body
