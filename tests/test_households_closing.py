"""Closing a household with a reason, reopening it, and taking a person of a closed household
back in charge (issue #26, item 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.households import operations
from app.households.models import Household, Person
from app.notifications.models import Notification
from tests import factories
from tests.concurrency import only_domain_errors, race
from tests.test_households import intake, member, post


def events(action, **where):
    query = select(AuditEvent).where(AuditEvent.action == action)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return _db.session.scalars(query.order_by(AuditEvent.id)).all()


def closed(household, reason="goals_met"):
    operations.close_household(household, today(), reason, None)
    _db.session.commit()
    return household


def intake_of(person):
    return intake(
        **member(
            0,
            first_name=person.first_name,
            last_name=person.last_name,
            birth=person.birth_date,
            sex=person.sex,
            cf=person.codice_fiscale,
        )
    )


def as_member(person):
    """The intake's values of `person`, as another entity types them."""
    return {k: getattr(person, k) for k in operations.PERSON_FIELDS}


# Closing ------------------------------------------------------------------------------------


def test_closing_asks_for_a_reason_on_a_confirmation_page(client, login_as, db):
    org = factories.organization()
    household = factories.household(org)
    login_as("entity_operator", org=org)
    detail = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert f'href="/households/{household.id}/close"' in detail
    page = client.get(f"/households/{household.id}/close")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for label in (
        "obiettivi raggiunti",
        "trasferito fuori Torino",
        "non più reperibile",
        "decesso",
    ):
        assert label in html
    assert "Conferma la chiusura" in html

    refused = post(client, f"/households/{household.id}/close", {"on": today().isoformat()})
    assert refused.status_code == 422
    assert "Scegli il motivo della chiusura." in refused.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Household, household.id).status == "active"


def test_the_confirmation_page_counts_members_in_the_singular_and_the_plural(client, login_as, db):
    org = factories.organization()
    alone = factories.household(org, members=1)
    family = factories.household(org, members=3)
    login_as("entity_operator", org=org)

    def sentence(household):
        html = client.get(f"/households/{household.id}/close").get_data(as_text=True)
        return html.replace("&#39;", "'")

    assert "(1 componente)." in sentence(alone)
    assert "(3 componenti)." in sentence(family)
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert "household (1 member)." in sentence(alone)
    assert "household (3 members)." in sentence(family)


def test_other_as_reason_needs_a_note_kept_on_error(client, login_as, db):
    org = factories.organization()
    household = factories.household(org)
    login_as("entity_operator", org=org)
    refused = post(
        client,
        f"/households/{household.id}/close",
        {"on": today().isoformat(), "reason": "other", "note": "   "},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Scrivi perché chiudi la presa in carico." in html
    assert '<option selected value="other">' in html or 'value="other" selected' in html


def test_closing_with_a_reason_is_saved_shown_and_audited(client, login_as, db):
    org = factories.organization()
    household = factories.household(org)
    login_as("entity_operator", org=org)
    done = post(
        client,
        f"/households/{household.id}/close",
        {"on": today().isoformat(), "reason": "left_turin", "note": "Si trasferisce a Novara"},
    )
    assert done.status_code == 303
    _db.session.expire_all()
    saved = _db.session.get(Household, household.id)
    assert (saved.status, saved.closing_reason) == ("closed", "left_turin")
    [event] = events("household_closed", object_id=household.id)
    assert event.changes["closing_reason"] == "left_turin"
    assert event.changes["closing_note"] == "Si trasferisce a Novara"
    html = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "trasferito fuori Torino" in html
    assert "Si trasferisce a Novara" in html


# Reopening ----------------------------------------------------------------------------------


def test_the_owning_entity_reopens_with_a_note(client, login_as, db):
    org = factories.organization()
    household = closed(factories.household(org))
    login_as("entity_operator", org=org)
    assert "Riapri il nucleo" in client.get(f"/households/{household.id}").get_data(as_text=True)
    refused = post(client, f"/households/{household.id}/reopen", {"note": ""})
    assert refused.status_code == 422
    assert "Scrivi perché riapri il nucleo." in refused.get_data(as_text=True)
    done = post(client, f"/households/{household.id}/reopen", {"note": "È tornata allo sportello"})
    assert done.status_code == 303
    _db.session.expire_all()
    saved = _db.session.get(Household, household.id)
    assert (saved.status, saved.closed_on, saved.closing_reason) == ("active", None, None)
    [event] = events("household_reopened", object_id=household.id)
    assert event.changes["note"] == "È tornata allo sportello"
    assert event.changes["closing_reason"] == ["goals_met", None]
    assert client.get(f"/households/{household.id}/edit").status_code == 200


def test_the_city_reopens_and_another_entity_cannot(client, login_as, app, db):
    household = closed(factories.household(factories.organization()))
    other = factories.user("entity_operator", factories.organization())
    _db.session.commit()
    stranger = app.test_client()
    from tests.worlds import signed_in

    stranger = signed_in(app, other)
    assert stranger.get(f"/households/{household.id}/reopen").status_code == 404
    login_as("coordinator")
    assert client.get(f"/households/{household.id}/reopen").status_code == 200
    done = post(client, f"/households/{household.id}/reopen", {"note": "Richiesta dei servizi"})
    assert done.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Household, household.id).status == "active"


# A person of a closed household taken in charge again -----------------------------------------


def test_intake_of_a_person_of_our_closed_household_offers_to_reopen_it(client, login_as, db):
    org = factories.organization()
    household = closed(factories.household(org))
    login_as("entity_operator", org=org)
    response = post(client, "/households/new", intake_of(household.members[0]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "già in carico" not in html
    assert "il nucleo è chiuso" in html
    assert f'href="/households/{household.id}/reopen"' in html
    assert _db.session.scalar(select(func.count(Household.id))) == 1


def test_another_entity_takes_the_person_in_charge_keeping_the_history(client, login_as, db):
    earlier_org = factories.organization(name="Ente di Prima")
    earlier = closed(factories.household(earlier_org))
    person = earlier.members[0]
    person_id, earlier_id = person.id, earlier.id
    coordinator = factories.user("coordinator")
    _db.session.commit()
    org = factories.organization(name="Ente di Ora")
    login_as("entity_operator", org=org)
    response = post(client, "/households/new", intake_of(person))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    _db.session.expire_all()
    new = _db.session.scalar(select(Household).where(Household.organization_id == org.id))
    assert [m.id for m in new.members] == [person_id]  # the same person, not a copy
    assert _db.session.get(Household, earlier_id).status == "closed"
    assert _db.session.scalar(select(func.count(Person.id))) == 1
    [moved] = events("person_taken_over", object_id=person_id)
    assert moved.changes["household_id"] == [earlier_id, new.id]
    assert events("household_member_taken_over", object_id=earlier_id)
    assert events("household_closed", object_id=earlier_id)  # the history stays
    [told] = _db.session.scalars(
        select(Notification).where(Notification.user_id == coordinator.id)
    ).all()
    assert (told.kind, told.object_id) == ("household_taken_over", new.id)
    assert told.params["earlier_households"] == [earlier_id]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "la Città è stata informata" in page


def test_a_household_whose_people_moved_on_stays_closed(client, login_as, db):
    earlier_org = factories.organization()
    earlier = closed(factories.household(earlier_org))
    operations.take_in_charge(
        factories.organization().id,
        {"circoscrizione": 3},
        [as_member(earlier.members[0])],
        factories.user("entity_operator"),
        [],
    )
    _db.session.commit()
    login_as("entity_operator", org=earlier_org)
    refused = post(client, f"/households/{earlier.id}/reopen", {"note": "Torna"})
    assert refused.status_code == 409
    assert "in carico a un altro ente" in refused.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Household, earlier.id).status == "closed"


@pytest.mark.parametrize("round_", range(3))
def test_reopening_and_another_entitys_intake_at_once_never_split_the_person(app, db, round_):
    """Reopen and take over race on the closed household's row lock: one wins, the person is
    in exactly one household in charge, the loser is told."""
    earlier_org = factories.organization()
    earlier = closed(factories.household(earlier_org))
    code, earlier_id = earlier.members[0].codice_fiscale, earlier.id
    taken = as_member(earlier.members[0])
    owner = factories.user("entity_operator", earlier_org)
    other_org = factories.organization()
    other = factories.user("entity_operator", other_org)
    _db.session.commit()
    owner_id, other_id, other_org_id = owner.id, other.id, other_org.id

    def prepare(i):
        from app.auth.models import User

        return _db.session.get(User, owner_id if i == 0 else other_id)

    def act(i, actor):
        if i == 0:
            operations.reopen_household(_db.session.get(Household, earlier_id), "Torna", actor)
        else:
            operations.take_in_charge(
                other_org_id,
                {"circoscrizione": 3},
                [taken],
                actor,
                [],
            )

    outcomes = race(app, prepare, act)
    errors = only_domain_errors(outcomes, DomainError)
    assert len(errors) == 1
    person = _db.session.scalar(select(Person).where(Person.codice_fiscale == code))
    assert person.household.status == "active"
    if outcomes[0].won:
        assert person.household_id == earlier_id
    else:
        assert person.household.organization_id == other_org_id
        assert _db.session.get(Household, earlier_id).status == "closed"
