"""Near-duplicates: the same person at an address written another way is still flagged."""

from __future__ import annotations

import pytest

from app.households.addresses import normalise_address
from app.households.operations import similar_people
from tests import factories
from tests.test_households import intake, member, post


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("Via Sempione, 45", "via Sempione 45"),
        ("V. Sempione 45", "via  sempione 45"),
        ("C.so Vercelli, 12", "corso Vercelli 12"),
        ("c.so vercelli 12", "Corso Vercelli, 12"),
        ("P.za Castello 1", "piazza castello, 1"),
        ("Via Nizza 3", "Vía Nizza 3"),
    ],
)
def test_addresses_written_differently_are_the_same(written, same_as):
    assert normalise_address(written) == normalise_address(same_as)


def test_different_addresses_stay_different():
    assert normalise_address("Via Sempione 45") != normalise_address("Via Sempione 46")
    assert normalise_address("Corso Vercelli 12") != normalise_address("Via Vercelli 12")


def test_same_surname_birth_date_and_address_written_differently_is_a_near_duplicate(db):
    household = factories.household(factories.organization(), address="Via Sempione, 45")
    person = household.members[0]
    found = similar_people("Altro", person.last_name, person.birth_date, "via Sempione 45")
    assert [p.id for p in found] == [person.id]
    assert similar_people("Altro", person.last_name, person.birth_date, "via Sempione 47") == []


def test_intake_warns_about_a_person_at_the_same_address_written_differently(client, login_as, db):
    org = factories.organization()
    household = factories.household(org, address="C.so Vercelli, 12")
    person = household.members[0]
    login_as("entity_operator", org=org)
    data = intake(
        address="corso Vercelli 12",
        **member(
            0,
            first_name="Nome Diverso",
            last_name=person.last_name,
            birth=person.birth_date,
            sex=person.sex,
            cf=factories.codice_fiscale(person.birth_date, person.sex),
        ),
    )
    warned = post(client, "/households/new", data)
    assert warned.status_code == 422
    assert "possibili persone già registrate" in warned.get_data(as_text=True)
