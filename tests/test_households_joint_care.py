"""Joint care (issue #17, item 9): accepting a request makes the second organization a co-holder.

Before the City accepts, the asking organization gets 404 on the household; after, it sees and
edits it like the owner (lists, search, detail, edit, members, the distribution counter, a
referral); both organizations appear on the household page; when the City ends the joint care,
404 again. Every step is in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.distributions.models import Distribution
from app.errors import DomainError
from app.extensions import db as _db
from app.households import operations
from app.households.models import (
    Household,
    HouseholdCoHolder,
    JointCareRequest,
    Person,
)
from tests import factories
from tests.concurrency import race
from tests.conftest import csrf_token_from
from tests.worlds import signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def logged_in(app: Flask, role: str, org: Any = None) -> tuple[FlaskClient, User]:
    """A browser of its own for a new user of `role` (and `org`), logged in."""
    user = factories.user(role=role, organization=org)
    return signed_in(app, user), user


def post(browser: FlaskClient, path: str, data: dict[str, Any], headers: Any = None) -> Any:
    token = csrf_token_from(browser.get("/account").get_data(as_text=True))
    return browser.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def events(action: str, **where: Any) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(_db.session.scalars(query))


@pytest.fixture
def joint(app: Flask, db: object) -> dict[str, Any]:
    """Caritas took the Rossi household in charge; the Aurora hub asked to follow it too."""
    owner_org = factories.organization(name="Caritas Barriera")
    helper_org = factories.organization(name="Banco Aurora", is_hub=True)
    site = factories.site(helper_org, is_hub=True, distribution_days=["tue"], name="Snodo Aurora")
    household = factories.household(owner_org, address="Via Cigna 3")
    reference = household.reference_person
    reference.last_name, reference.first_name = "Rossi", "Lucia"
    _db.session.commit()
    helper, helper_user = logged_in(app, "entity_operator", helper_org)
    owner, _owner_user = logged_in(app, "entity_operator", owner_org)
    city, city_user = logged_in(app, "coordinator")
    asked = post(
        helper,
        "/households/joint-care",
        {"codice_fiscale": reference.codice_fiscale, "message": "Viene allo snodo"},
    )
    assert asked.status_code == 303
    request = _db.session.scalar(select(JointCareRequest))
    return {
        "app": app,
        "household": household,
        "site": site,
        "helper": helper,
        "helper_org": helper_org,
        "helper_user": helper_user,
        "owner": owner,
        "owner_org": owner_org,
        "city": city,
        "city_user": city_user,
        "request": request,
    }


def accept(joint: dict[str, Any]) -> Any:
    return post(
        joint["city"],
        f"/households/joint-care/{joint['request'].id}/accept",
        {"note": "Seguono insieme"},
    )


def holder_of(joint: dict[str, Any]) -> HouseholdCoHolder:
    return _db.session.scalar(select(HouseholdCoHolder))


def pages(household_id: int) -> list[str]:
    return [f"/households/{household_id}", f"/households/{household_id}/edit"]


def test_before_acceptance_the_asking_organization_sees_nothing(joint):
    household_id = joint["household"].id
    for path in pages(household_id):
        assert joint["helper"].get(path).status_code == 404
    assert "Rossi" not in joint["helper"].get("/households/?q=rossi").get_data(as_text=True)
    assert count_co_holders() == 0


def test_accepted_joint_care_lets_the_second_organization_see_and_edit(joint):
    household_id = joint["household"].id
    helper = joint["helper"]
    response = accept(joint)
    assert response.status_code == 303
    page = joint["city"].get(response.headers["Location"]).get_data(as_text=True)
    assert "Presa in carico congiunta avviata: Banco Aurora ora segue il nucleo." in page

    # Seen: detail (both organizations named), list, search.
    detail = helper.get(f"/households/{household_id}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert "in carico a Caritas Barriera" in body
    assert "in carico congiunto con Banco Aurora" in body
    assert "Modifica i dati del nucleo" in body
    assert "Chiudi la presa in carico" not in body  # closing stays with the owner
    assert "Rossi Lucia" in helper.get("/households/?q=rossi").get_data(as_text=True)
    owner_page = joint["owner"].get(f"/households/{household_id}").get_data(as_text=True)
    assert "in carico congiunto con Banco Aurora" in owner_page

    # Edited: the household, a new member, a distribution at the co-holder's hub, a referral.
    assert helper.get(f"/households/{household_id}/edit").status_code == 200
    edited = post(
        helper,
        f"/households/{household_id}/edit",
        {
            "address": "Via Cigna 5",
            "circoscrizione": "6",
            "needs": ["food"],
            "housing_situation": "",
        },
    )
    assert edited.status_code == 303
    assert _db.session.get(Household, household_id).address == "Via Cigna 5"
    added = post(
        helper,
        f"/households/{household_id}/members/new",
        {
            "first_name": "Marco",
            "last_name": "Rossi",
            "birth_date": date(2015, 3, 1).isoformat(),
            "sex": "M",
            "relation": "child",
            "employment_status": "",
            "education": "",
        },
    )
    assert added.status_code == 303
    assert (
        _db.session.scalar(select(func.count(Person.id)).where(Person.household_id == household_id))
        == 2
    )
    found = helper.get("/distributions/find?q=rossi", headers=HTMX).get_data(as_text=True)
    assert "Rossi Lucia" in found
    recorded = post(
        helper,
        "/distributions/",
        {
            "household_id": str(household_id),
            "site_id": str(joint["site"].id),
            "distributed_on": today().isoformat(),
            "kind": "food_basket",
            "quantity": "1",
        },
        headers=HTMX,
    )
    assert recorded.status_code == 200
    assert _db.session.scalar(select(Distribution.organization_id)) == joint["helper_org"].id
    assert helper.get(f"/referrals/new?household={household_id}").status_code == 200

    # Closing the taking in charge is not the co-holder's to do.
    closed = post(helper, f"/households/{household_id}/close", {"on": today().isoformat()})
    assert closed.status_code == 404
    assert _db.session.get(Household, household_id).status == "active"

    # Audited: the answer on the request, the start on the household.
    (accepted,) = events("joint_care_accepted", object_id=joint["request"].id)
    assert accepted.actor_id == joint["city_user"].id
    (started,) = events("joint_care_started", object_type="household", object_id=household_id)
    assert started.changes["organization_id"] == joint["helper_org"].id


def test_the_city_ends_the_joint_care_and_the_co_holder_loses_access(joint):
    household_id = joint["household"].id
    accept(joint)
    holder = holder_of(joint)
    city_page = joint["city"].get(f"/households/{household_id}").get_data(as_text=True)
    assert "Termina la presa in carico congiunta" in city_page
    ended = post(
        joint["city"],
        f"/households/{household_id}/co-holders/{holder.id}/end",
        {"note": "Il nucleo non va più allo snodo"},
    )
    assert ended.status_code == 303
    for path in pages(household_id):
        assert joint["helper"].get(path).status_code == 404
    assert "Rossi" not in joint["helper"].get("/households/?q=rossi").get_data(as_text=True)
    assert joint["owner"].get(f"/households/{household_id}").status_code == 200
    (event,) = events("joint_care_ended", object_type="household", object_id=household_id)
    assert event.actor_id == joint["city_user"].id
    assert event.changes["organization_id"] == joint["helper_org"].id
    _db.session.expire_all()
    assert holder_of(joint).ended_at is not None
    # The person's data export says who held the household, and until when.
    person_id = joint["household"].reference_person.id
    export = joint["city"].get(f"/households/{household_id}/people/{person_id}/export.json").json
    (request,) = export["joint_care_requests"]
    assert request["requesting_organization"] == "Banco Aurora"
    assert request["co_holder_from"]
    assert request["co_holder_until"]
    page = joint["city"].get(f"/households/{household_id}/people/{person_id}/export")
    assert "in carico congiunto dal" in page.get_data(as_text=True)
    # Sent again by the same person (a double click): done, not an error; by a colleague who
    # had the old page: told it is over. Either way one end in the audit log.
    path = f"/households/{household_id}/co-holders/{holder.id}/end"
    assert post(joint["city"], path, {}).status_code == 303
    colleague, _user = logged_in(joint["app"], "coordinator")
    late = post(colleague, path, {})
    assert late.status_code == 409
    assert "Questa presa in carico congiunta è già terminata." in late.get_data(as_text=True)
    assert len(events("joint_care_ended")) == 1


def test_an_answer_clicked_twice_is_done_once_and_a_colleague_is_told(joint):
    assert accept(joint).status_code == 303
    assert accept(joint).status_code == 303  # the same coordinator's second click
    colleague, _user = logged_in(joint["app"], "coordinator")
    late = post(colleague, f"/households/joint-care/{joint['request'].id}/decline", {})
    assert late.status_code == 409
    assert "Questa richiesta ha già avuto una risposta." in late.get_data(as_text=True).replace(
        "&#39;", "'"
    )
    assert count_co_holders() == 1
    assert len(events("joint_care_accepted")) == 1
    assert len(events("joint_care_declined")) == 0


def test_a_declined_request_gives_no_access(joint):
    response = post(joint["city"], f"/households/joint-care/{joint['request'].id}/decline", {})
    assert response.status_code == 303
    assert joint["helper"].get(f"/households/{joint['household'].id}").status_code == 404
    assert count_co_holders() == 0


def test_only_the_city_ends_a_joint_care(joint):
    accept(joint)
    holder = holder_of(joint)
    path = f"/households/{joint['household'].id}/co-holders/{holder.id}/end"
    for browser in (joint["helper"], joint["owner"]):
        assert post(browser, path, {}).status_code == 403
    assert holder_of(joint).ended_at is None


def test_two_coordinators_accepting_at_once_make_one_co_holder(app, joint):
    request_id, user_id = joint["request"].id, joint["city_user"].id

    def prepare(i: int) -> tuple[JointCareRequest, User]:
        request = _db.session.get(JointCareRequest, request_id)
        request.household  # noqa: B018 - loaded as the page had it
        return request, _db.session.get(User, user_id)

    outcomes = race(
        app,
        prepare,
        lambda i, loaded: operations.decide_joint_care(loaded[0], True, None, loaded[1]),
        threads=4,
    )
    errors = [o.error for o in outcomes if o.error is not None]
    assert len(errors) == len(outcomes) - 1
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert count_co_holders() == 1
    assert len(events("joint_care_accepted")) == 1
    assert len(events("joint_care_started")) == 1


def test_a_co_holder_cannot_ask_again(joint):
    accept(joint)
    again = post(
        joint["helper"],
        "/households/joint-care",
        {"codice_fiscale": joint["household"].reference_person.codice_fiscale},
    )
    assert again.status_code == 409
    assert _db.session.scalar(select(func.count(JointCareRequest.id))) == 1


def count_co_holders() -> int:
    return _db.session.scalar(select(func.count(HouseholdCoHolder.id))) or 0


def test_a_co_holder_opens_referrals_and_projects_in_its_own_name(joint):
    """What the co-holder starts is its own: it finds it in its lists, and so does the owner's
    work stay the owner's."""
    from app.projects import operations as projects
    from app.referrals import operations as referrals
    from app.referrals.models import Referral

    accept(joint)
    household = _db.session.get(Household, joint["household"].id)
    helper_user = _db.session.get(User, joint["helper_user"].id)
    job_org = factories.organization(name="Lavoro Dora")
    factories.accreditation(job_org)
    service = factories.service(job_org, monthly_capacity=5)
    _db.session.commit()

    referral = referrals.create(
        household, household.reference_person, "job_search", service, "Cerca lavoro", helper_user
    )
    project = projects.create(household, None, {"title": "Patente"}, helper_user)
    _db.session.commit()

    assert referral.from_organization_id == joint["helper_org"].id
    assert project.organization_id == joint["helper_org"].id
    mine = joint["helper"].get("/referrals/").get_data(as_text=True)
    assert f'id="referral-{referral.id}"' in mine
    assert "Patente" in joint["helper"].get("/projects/").get_data(as_text=True)
    assert _db.session.get(Referral, referral.id).household_id == household.id


def test_a_co_holder_proposes_housing_and_follows_eviction_cases(joint):
    from app.housing.policy import can_manage_risk_cases, can_propose_for

    household = _db.session.get(Household, joint["household"].id)
    helper_user = _db.session.get(User, joint["helper_user"].id)
    assert not can_propose_for(helper_user, household)
    assert not can_manage_risk_cases(helper_user, household)
    assert (
        joint["helper"].get(f"/housing/placements/new?household={household.id}").status_code == 404
    )

    accept(joint)
    _db.session.expire_all()
    household = _db.session.get(Household, joint["household"].id)
    helper_user = _db.session.get(User, joint["helper_user"].id)

    assert can_propose_for(helper_user, household)
    assert can_manage_risk_cases(helper_user, household)
    page = joint["helper"].get(f"/housing/placements/new?household={household.id}")
    assert page.status_code == 200
    assert "Il nucleo non è più in carico" not in page.get_data(as_text=True)


# When the joint care ends, and what a co-holder may edit -------------------------------------

SECTIONS = ("distributions", "referrals", "projects", "housing")
EDIT = {"address": "Via Cigna 9", "circoscrizione": "6", "needs": ["food"], "housing_situation": ""}


def end_joint_care(joint: dict[str, Any]) -> None:
    holder = holder_of(joint)
    ended = post(
        joint["city"],
        f"/households/{joint['household'].id}/co-holders/{holder.id}/end",
        {"note": "Il nucleo non va più allo snodo"},
    )
    assert ended.status_code == 303


def exported_names(browser: FlaskClient) -> str:
    response = browser.get("/households/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return response.get_data(as_text=True)


def test_when_the_joint_care_ends_the_co_holder_finds_the_household_nowhere(joint):
    """Page, each section fragment (htmx or not), list search, counter search, export: all of
    them showed the household during the joint care, none of them after."""
    household_id = joint["household"].id
    helper = joint["helper"]
    accept(joint)
    assert helper.get(f"/households/{household_id}").status_code == 200
    for domain in SECTIONS:
        fragment = helper.get(f"/{domain}/household/{household_id}", headers=HTMX)
        assert fragment.status_code == 200, domain
    assert "Rossi Lucia" in helper.get("/households/?q=rossi").get_data(as_text=True)
    assert "Rossi" in helper.get("/households/?q=rossi", headers=HTMX).get_data(as_text=True)
    assert "Rossi" in helper.get("/distributions/find?q=rossi", headers=HTMX).get_data(as_text=True)
    assert "Rossi" in exported_names(helper)

    end_joint_care(joint)

    assert helper.get(f"/households/{household_id}").status_code == 404
    for domain in SECTIONS:
        for headers in (HTMX, {}):
            fragment = helper.get(f"/{domain}/household/{household_id}", headers=headers)
            assert fragment.status_code == 404, (domain, headers)
            assert "Rossi" not in fragment.get_data(as_text=True)
    assert "Rossi" not in helper.get("/households/?q=rossi").get_data(as_text=True)
    assert "Rossi" not in helper.get("/households/?q=rossi", headers=HTMX).get_data(as_text=True)
    assert "Rossi" not in helper.get("/distributions/find?q=rossi", headers=HTMX).get_data(
        as_text=True
    )
    exported = exported_names(helper)
    assert "Rossi" not in exported
    assert "Via Cigna" not in exported
    # The owner still has it everywhere.
    assert "Rossi" in exported_names(joint["owner"])
    assert joint["owner"].get(f"/households/{household_id}").status_code == 200


def test_a_co_holder_edits_the_household_while_the_joint_care_lasts_and_not_after(joint):
    """The rule (app/households/policy.py, DESIGN.md): a co-holder manages the household as the
    owner does while the joint care is in force; once the City ends it, nothing."""
    household_id = joint["household"].id
    helper = joint["helper"]
    refused_before = post(helper, f"/households/{household_id}/edit", EDIT)
    assert refused_before.status_code == 404

    accept(joint)
    edited = post(helper, f"/households/{household_id}/edit", EDIT)
    assert edited.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Household, household_id).address == "Via Cigna 9"
    (event,) = events("household_updated", object_id=household_id)
    assert event.actor_id == joint["helper_user"].id

    end_joint_care(joint)
    for path in (f"/households/{household_id}/edit", f"/households/{household_id}/members/new"):
        assert helper.get(path).status_code == 404, path
    late = post(helper, f"/households/{household_id}/edit", {**EDIT, "address": "Via Tarda 1"})
    assert late.status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Household, household_id).address == "Via Cigna 9"
    assert len(events("household_updated", object_id=household_id)) == 1


def test_a_co_holder_may_not_edit_once_the_owner_closed_the_household(joint):
    """Editing is for active households only, for the co-holder as for the owner."""
    household_id = joint["household"].id
    accept(joint)
    closed = post(
        joint["owner"],
        f"/households/{household_id}/close",
        {"on": today().isoformat(), "reason": "goals_met"},
    )
    assert closed.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Household, household_id).status == "closed"

    helper = joint["helper"]
    assert helper.get(f"/households/{household_id}/edit").status_code == 404
    late = post(helper, f"/households/{household_id}/edit", EDIT)
    assert late.status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Household, household_id).address == "Via Cigna 3"
    # Still co-held (the City has not ended the joint care): seen, read only.
    page = helper.get(f"/households/{household_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Modifica i dati del nucleo" not in body
    assert f'href="/households/{household_id}/edit"' not in body
