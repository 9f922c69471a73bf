"""The household page from per-domain fragments: distributions, referrals, projects and housing
each render their own section (app/<domain>/household_section.py), which the page loads with
htmx; each fragment is scoped like the page (out of scope: 404) and audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent, AuditEventHousehold
from app.clock import today
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.projects.models import Project
from tests import factories

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
SECTIONS = {
    "distributions": "Distribuzioni ricevute",
    "referrals": "Segnalazioni",
    "projects": "Progetti individualizzati",
    "housing": "Casa",
}


def _world():
    org = factories.organization(name="Ente Uno", is_hub=True)
    household = factories.household(org, members=2)
    site = factories.site(org, name="Snodo Aurora")
    _db.session.add(
        Distribution(
            household_id=household.id,
            site_id=site.id,
            organization_id=org.id,
            distributed_on=today(),
            kind="food_basket",
            quantity=1,
        )
    )
    _db.session.add(
        Project(
            household_id=household.id,
            organization_id=org.id,
            title="Percorso verso il lavoro",
            status="draft",
        )
    )
    _db.session.commit()
    return org, household


def _section_events(household_id: int) -> list[AuditEvent]:
    return list(
        _db.session.scalars(
            select(AuditEvent)
            .join(AuditEventHousehold, AuditEventHousehold.audit_event_id == AuditEvent.id)
            .where(
                AuditEvent.action == "household_section_viewed",
                AuditEventHousehold.household_id == household_id,
            )
        )
    )


def test_the_page_loads_each_section_from_its_domain(client, login_as, db):
    org, household = _world()
    login_as("entity_operator", org=org)
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    for domain, title in SECTIONS.items():
        url = f"/{domain}/household/{household.id}"
        # Lazy with htmx, and a plain link for a browser without JavaScript.
        assert re.search(rf'hx-get="{url}" hx-trigger="(load|revealed)"', page), domain
        assert f'<a href="{url}">{title}</a>' in page
    fragment = client.get(f"/distributions/household/{household.id}", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    assert "Snodo Aurora" in body
    assert title_of(body) == "Distribuzioni ricevute"
    body = client.get(f"/projects/household/{household.id}", headers=HTMX).get_data(as_text=True)
    assert "Percorso verso il lavoro" in body
    for domain in ("referrals", "housing"):
        body = client.get(f"/{domain}/household/{household.id}", headers=HTMX).get_data(
            as_text=True
        )
        assert "<html" not in body
        assert title_of(body) == SECTIONS[domain]
    # Without htmx, the same URL is a full page with the section inside it.
    full = client.get(f"/projects/household/{household.id}").get_data(as_text=True)
    assert "<html" in full
    assert "Percorso verso il lavoro" in full
    assert f'href="/households/{household.id}"' in full


def title_of(body: str) -> str:
    found = re.search(r'<h2 id="[a-z-]+-title" class="h4">([^<]+)</h2>', body)
    assert found, body[:300]
    return found.group(1)


@pytest.mark.parametrize("domain", sorted(SECTIONS))
def test_each_section_is_audited(client, login_as, db, domain):
    org, household = _world()
    user = login_as("entity_operator", org=org)
    assert client.get(f"/{domain}/household/{household.id}", headers=HTMX).status_code == 200
    [event] = _section_events(household.id)
    assert event.actor_id == user.id
    assert event.object_type == "household"
    assert event.object_id == household.id
    assert event.changes["section"] == domain


@pytest.mark.parametrize("domain", sorted(SECTIONS))
def test_each_section_is_404_out_of_scope(client, login_as, db, domain):
    _org, household = _world()
    login_as("entity_operator", org=factories.organization(name="Ente Due"))
    for headers in (HTMX, {}):
        response = client.get(f"/{domain}/household/{household.id}", headers=headers)
        assert response.status_code == 404
    assert client.get(f"/{domain}/household/999999", headers=HTMX).status_code == 404
    assert _section_events(household.id) == []
    assert "Percorso verso il lavoro" not in response.get_data(as_text=True)


def test_the_housing_buttons_stay_in_the_header(client, login_as, db):
    """Housing adds its buttons to the page's header (app.households.sections.header_action)."""
    org, household = _world()
    login_as("entity_operator", org=org)
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    header = page.split('aria-labelledby="members-title"')[0]
    assert f'href="/housing/placements/new?household={household.id}"' in header
    assert "Proponi un alloggio" in header
    assert "Apri un caso di prevenzione dello sfratto" in header
    household.status = "closed"
    _db.session.commit()
    header = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "Proponi un alloggio" not in header.split('aria-labelledby="members-title"')[0]
