"""Each edit and new page's <title> names its object, and no person: titles land in the history.

On the demo data, the hub operator opens every edit or new page linked from two households'
pages (the household, its members, a project, a referral, a housing placement, an eviction
risk case): each title names "nucleo n. <id>" of its own household and none of the members'
names; a project's edit page names the project's number. An organization's edit page and a
housing unit's edit page have their own title, not the detail page's.
"""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import User
from app.cli import seed_demo_command
from app.extensions import db as _db
from app.households.models import Person
from tests.worlds import DEMO_PASSWORD, log_in

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
HOUSEHOLD_LINK = re.compile(r'href="/households/(\d+)"')
# The edit and new pages of a household's journeys, as linked from its page.
HOUSEHOLD_FORMS = {
    "household": re.compile(r"^/households/\d+/edit$"),
    "new member": re.compile(r"^/households/\d+/members/new$"),
    "member": re.compile(r"^/households/\d+/members/\d+$"),
    "new project": re.compile(r"^/projects/new\?household=\d+$"),
    "new referral": re.compile(r"^/referrals/new\?household=\d+"),
    "new placement": re.compile(r"^/housing/placements/new\?household=\d+$"),
    "new risk case": re.compile(r"^/housing/risk-cases/new\?household=\d+$"),
}


def _title(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return unescape(TITLE.search(response.get_data(as_text=True))[1]).split(" · ")[0].strip()


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/[^"#]*)"', html)]


def test_edit_and_new_pages_name_their_household_and_no_person(app, client, db):
    assert app.test_cli_runner().invoke(seed_demo_command, []).exit_code == 0
    log_in(client, "ente1", DEMO_PASSWORD)
    listing = client.get("/households/").get_data(as_text=True)
    household_ids = list(dict.fromkeys(HOUSEHOLD_LINK.findall(listing)))[:2]
    assert len(household_ids) == 2
    titles: dict[str, set[str]] = {kind: set() for kind in HOUSEHOLD_FORMS}
    for household_id in household_ids:
        names = {
            name
            for person in _db.session.scalars(
                select(Person).where(Person.household_id == int(household_id))
            )
            for name in (person.first_name, person.last_name)
        }
        detail = client.get(f"/households/{household_id}").get_data(as_text=True)
        # The household's own page, on a shared screen or in the tab list, names no one either.
        detail_title = _title(client, f"/households/{household_id}")
        assert detail_title == f"Nucleo n. {household_id}", detail_title
        assert not [n for n in names if n in detail_title], detail_title
        for url in _links(detail):
            kind = next((k for k, pattern in HOUSEHOLD_FORMS.items() if pattern.match(url)), None)
            if kind is None:
                continue
            title = _title(client, url)
            assert f"nucleo n. {household_id}" in title, (url, title)
            assert not [n for n in names if n in title], (url, title)
            titles[kind].add(title)
    # Every kind of page was seen on both households, with a different title on each.
    assert {kind: len(seen) for kind, seen in titles.items()} == dict.fromkeys(HOUSEHOLD_FORMS, 2)

    projects = client.get("/projects/").get_data(as_text=True)
    project_ids = list(dict.fromkeys(re.findall(r'href="/projects/(\d+)"', projects)))[:2]
    assert len(project_ids) == 2
    for project_id in project_ids:
        title = _title(client, f"/projects/{project_id}/edit")
        assert title == f"Modifica del progetto n. {project_id}"


def test_organization_and_unit_edit_pages_have_their_own_title(app, client, db):
    assert app.test_cli_runner().invoke(seed_demo_command, []).exit_code == 0
    log_in(client, "alloggi1", DEMO_PASSWORD)
    own = _db.session.scalar(select(User.organization_id).where(User.username == "alloggi1"))
    org_url = f"/entities/{own}"
    assert f'href="{org_url}/edit"' in client.get(org_url).get_data(as_text=True)
    org_title = _title(client, org_url)
    assert _title(client, f"{org_url}/edit") == f"Modifica dell’ente {org_title}"

    board = client.get("/housing/").get_data(as_text=True)
    unit_url = next(u for u in _links(board) if re.match(r"^/housing/units/\d+$", u))
    unit_title = _title(client, unit_url)
    assert _title(client, f"{unit_url}/edit") == f"Modifica dell'alloggio {unit_title}"


def test_the_data_subject_rights_page_names_no_person(app, client, db):
    """The extract for the data subject shows the name on the page, not in its <title>."""
    assert app.test_cli_runner().invoke(seed_demo_command, []).exit_code == 0
    log_in(client, "coordinatore", DEMO_PASSWORD)
    listing = client.get("/households/").get_data(as_text=True)
    household_id = int(HOUSEHOLD_LINK.findall(listing)[0])
    detail = client.get(f"/households/{household_id}").get_data(as_text=True)
    people = _db.session.scalars(select(Person).where(Person.household_id == household_id)).all()
    assert people
    for person in people:
        url = f"/households/{household_id}/people/{person.id}/export"
        assert f'href="{url}"' in detail, url
        title = _title(client, url)
        assert title == (
            f"Diritti dell’interessato – componente n. {person.id} del nucleo n. {household_id}"
        )
        assert person.first_name not in title
        assert person.last_name not in title
