"""One household-access policy (issue #20): for each role, the level the policies return for a
household, and what its pages and fragments show for it: the name or only what the role may
know, a link to the household page only where that page opens, 404 out of scope.

The people: an operator of the organization that holds the household, an operator of another
organization, the receiving service of an approved referral, a housing provider before and
another after the City approved its placement, the City's coordinator, the IT admin.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.db import utcnow
from app.extensions import db as _db
from app.households.policy import HouseholdAccess, household_access, may_open_household
from app.housing import policy as housing_policy
from app.housing.models import HousingRiskCase, HousingUnit, Placement
from app.projects.models import Project
from app.referrals import policy as referrals_policy
from tests import factories
from tests.test_referrals_views import job_service_org, make_referral, signed_in, text

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
FULL, MINIMAL, INITIALS, NONE = (
    HouseholdAccess.FULL,
    HouseholdAccess.MINIMAL,
    HouseholdAccess.INITIALS,
    HouseholdAccess.NONE,
)
ROLES = (
    "holder",
    "other",
    "receiver",
    "provider_before",
    "provider_after",
    "coordinator",
    "admin",
)


def unit_of(provider):
    unit = HousingUnit(
        provider_id=provider.id,
        name=f"Alloggio di {provider.name}",
        kind="temporary_flat",
        address="Via Alloggio 3",
        circoscrizione=provider.circoscrizione,
        capacity=4,
        vacancies=2,
        target_groups=[],
        vacancies_updated_at=utcnow(),
    )
    _db.session.add(unit)
    _db.session.flush()
    return unit


def placement_in(unit, household, approved):
    placement = Placement(
        household_id=household.id,
        unit_id=unit.id,
        provider_id=unit.provider_id,
        status="approved" if approved else "proposed",
        approved_at=utcnow() if approved else None,
        motivation="Sfratto eseguito, due persone.",
    )
    _db.session.add(placement)
    _db.session.flush()
    return placement


@pytest.fixture
def world(app, db):
    holder = factories.organization(is_hub=True, is_job_service=True, circoscrizione=3)
    factories.accreditation(holder)
    receiver = job_service_org(circoscrizione=3, name="Cooperativa Lavoro Insieme")
    service = factories.service(receiver, name="Orientamento al lavoro")
    other = factories.organization(is_job_service=True, name="Altro Ente")
    before = factories.organization(is_housing_provider=True, name="Casa Prima")
    after = factories.organization(is_housing_provider=True, name="Casa Dopo")
    household = factories.household(holder, members=2)
    reference = household.reference_person
    reference.first_name, reference.last_name = "Amina", "Benali"
    referral = make_referral(household, service, "approved", person_id=reference.id)
    proposed = placement_in(unit_of(before), household, approved=False)
    approved = placement_in(unit_of(after), household, approved=True)
    case = HousingRiskCase(
        household_id=household.id, organization_id=holder.id, kind="other", status="open"
    )
    project = Project(
        household_id=household.id,
        person_id=reference.id,
        organization_id=holder.id,
        title="Progetto di Amina",
        status="submitted",
        submitted_at=utcnow(),
    )
    _db.session.add_all([case, project])
    users = {
        "holder": factories.user(role="entity_operator", organization=holder),
        "other": factories.user(role="entity_operator", organization=other),
        "receiver": factories.user(role="entity_operator", organization=receiver),
        "provider_before": factories.user(role="housing_provider", organization=before),
        "provider_after": factories.user(role="housing_provider", organization=after),
        "coordinator": factories.user(role="coordinator"),
        "admin": factories.user(role="admin"),
    }
    _db.session.commit()
    return SimpleNamespace(
        app=app,
        household=household,
        referral=referral,
        proposed=proposed,
        approved=approved,
        case=case,
        project=project,
        users=users,
    )


def page(world, role, path, headers=None):
    return signed_in(world.app, world.users[role]).get(path, headers=headers or {})


def household_link(world):
    return f'href="/households/{world.household.id}"'


# The levels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "level"),
    [
        ("holder", FULL),
        ("other", NONE),
        ("receiver", NONE),  # the referral's minimal view is not the household
        ("provider_before", NONE),
        ("provider_after", NONE),
        ("coordinator", FULL),
        ("admin", NONE),  # IT: no household data at all
    ],
)
def test_the_households_own_level_and_whether_its_page_opens(world, role, level):
    user = world.users[role]
    assert household_access(user, world.household.id) is level
    assert may_open_household(user, world.household.id) is (level is FULL)


@pytest.mark.parametrize(
    ("role", "level"),
    [
        ("holder", FULL),
        ("other", NONE),
        ("receiver", MINIMAL),
        ("provider_before", NONE),
        ("coordinator", FULL),
        ("admin", NONE),
    ],
)
def test_the_level_a_referral_gives(world, role, level):
    assert referrals_policy.household_access(world.users[role], world.referral) is level


@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        ("holder", FULL, FULL),
        ("other", NONE, NONE),
        ("receiver", NONE, NONE),
        ("provider_before", INITIALS, NONE),  # the other provider's placement is none of its
        ("provider_after", NONE, FULL),
        ("coordinator", FULL, FULL),
        ("admin", NONE, NONE),
    ],
)
def test_the_level_a_placement_gives_before_and_after_the_city_approves(world, role, before, after):
    user = world.users[role]
    assert housing_policy.household_access(user, world.proposed) is before
    assert housing_policy.household_access(user, world.approved) is after


# What the pages show --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("holder", 200),
        ("other", 404),
        ("receiver", 404),
        ("provider_before", 403),  # not their area at all
        ("provider_after", 403),
        ("coordinator", 200),
        ("admin", 403),
    ],
)
def test_the_household_page_and_its_sections_open_only_in_scope(world, role, status):
    household_id = world.household.id
    browser = signed_in(world.app, world.users[role])
    response = browser.get(f"/households/{household_id}")
    assert response.status_code == status
    if status == 200:
        assert "Benali Amina" in text(response)
    for domain in ("distributions", "referrals", "projects", "housing"):
        section = browser.get(f"/{domain}/household/{household_id}", headers=HTMX)
        assert section.status_code == status, domain
        if status == 200:
            assert "<html" not in text(section)


@pytest.mark.parametrize(
    ("role", "status", "named", "linked"),
    [
        ("holder", 200, True, True),
        ("other", 404, False, False),
        ("receiver", 200, False, False),
        ("coordinator", 200, True, True),
    ],
)
def test_the_referral_page_names_the_household_only_for_who_knows_it(
    world, role, status, named, linked
):
    response = page(world, role, f"/referrals/{world.referral.id}")
    assert response.status_code == status
    if status != 200:
        return
    body = text(response)
    assert "Amina Benali" in body  # the referred person: every side needs it
    assert ("Benali Amina" in body) is named  # the household's name
    assert (household_link(world) in body) is linked


@pytest.mark.parametrize(
    ("role", "household_name"), [("holder", True), ("receiver", False), ("coordinator", True)]
)
def test_the_referral_list_row_shows_the_household_or_only_the_person(world, role, household_name):
    body = text(page(world, role, "/referrals/"))
    assert f'id="referral-{world.referral.id}"' in body
    assert ("Benali Amina" in body) is household_name
    if not household_name:
        assert "Amina Benali" in body


@pytest.mark.parametrize(
    ("role", "which", "status", "shows", "linked"),
    [
        ("holder", "proposed", 200, "Benali Amina", True),
        ("coordinator", "proposed", 200, "Benali Amina", True),
        ("provider_before", "proposed", 200, "A. B.", False),
        ("provider_after", "approved", 200, "Benali Amina", False),
        ("provider_after", "proposed", 404, None, False),
        ("other", "approved", 404, None, False),
    ],
)
def test_the_placement_page_shows_what_the_level_allows(world, role, which, status, shows, linked):
    placement = getattr(world, which)
    response = page(world, role, f"/housing/placements/{placement.id}")
    assert response.status_code == status
    if status != 200:
        return
    body = text(response)
    assert shows in body
    if shows == "A. B.":
        assert "Benali" not in body
        assert "Amina" not in body
        assert "Sfratto eseguito" not in body
    assert (household_link(world) in body) is linked


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("holder", 200),
        ("other", 404),
        ("receiver", 404),
        ("coordinator", 200),
        ("provider_after", 403),
    ],
)
def test_the_risk_case_and_project_pages_link_the_household_in_scope(world, role, status):
    for path in (f"/housing/risk-cases/{world.case.id}", f"/projects/{world.project.id}"):
        response = page(world, role, path)
        assert response.status_code == status, path
        if status == 200:
            body = text(response)
            assert "Benali Amina" in body
            assert household_link(world) in body


def test_a_page_names_without_a_link_a_household_its_user_no_longer_holds(world):
    """The sender of a referral knows the household it sent; once the household passed to
    another organization its page no longer opens to the sender, and the link goes with it."""
    newcomer = factories.organization(is_hub=True, name="Nuovo Ente")
    world.household.organization_id = newcomer.id
    _db.session.commit()
    holder = world.users["holder"]
    assert referrals_policy.household_access(holder, world.referral) is FULL
    assert not may_open_household(holder, world.household.id)

    body = text(page(world, "holder", f"/referrals/{world.referral.id}"))
    assert "Benali Amina" in body
    assert household_link(world) not in body
