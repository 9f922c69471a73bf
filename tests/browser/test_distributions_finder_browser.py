"""The hub counter in a real browser: the finder's hits show who each family is (#26)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from app.households.models import Household
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def a_family_of(app, username):
    """A household in charge of the user's organization, as the demo data has it."""
    with app.app_context():
        org_id = _db.session.scalar(select(User.organization_id).where(User.username == username))
        household = _db.session.scalars(
            select(Household)
            .where(
                Household.organization_id == org_id,
                Household.status == "active",
                Household.address.is_not(None),
            )
            .order_by(Household.id)
        ).first()
        reference = household.reference_person
        found = (
            reference.last_name,
            household.display_name,
            reference.birth_date.year,
            reference.codice_fiscale,
            household.address,
        )
        _db.session.remove()
        return found


def test_the_counter_sees_birth_year_codice_fiscale_tail_and_street(app, page):
    last_name, name, year, code, address = a_family_of(app, "ente1")
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto("/distributions/")
    page.get_by_label("Cerca il nucleo per codice fiscale o cognome").fill(last_name)
    hit = page.locator(".finder-hit").filter(has=page.get_by_role("link", name=f"Seleziona {name}"))
    hit.first.wait_for()
    identity = hit.first.locator(".finder-identity").inner_text()
    assert f"nata/o nel {year}" in identity
    assert f"C.F. …{code[-4:]}" in identity
    street = re.split(r"[,\s]+\d", address, maxsplit=1)[0]
    assert street in identity
    assert code not in page.locator("#finder-results").inner_text()
    assert_accessible(page, "distribution-finder-identity")
