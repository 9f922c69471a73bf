"""The intake form's "già seguita da <ente>" answer: audited, throttled per user, watched by the
City (it tells whether a codice fiscale is known to the social services, and where)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.admin.models import set_setting
from app.audit.models import AuditEvent, AuditEventHousehold
from app.db import utcnow
from app.extensions import db as _db
from app.households import disclosures
from app.notifications.labels import target_url, text
from app.notifications.models import Notification
from tests import factories
from tests.test_households import intake, member, post
from tests.worlds import signed_in


def foreign_person(name="Associazione Lontana"):
    household = factories.household(factories.organization(name=name))
    return household, household.members[0]


def ask_about(client, person):
    data = intake(**member(0, cf=person.codice_fiscale, birth=person.birth_date, sex=person.sex))
    return post(client, "/households/new", data)


def disclosed_by(user):
    return _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == disclosures.DISCLOSED, AuditEvent.actor_id == user.id
        )
    ).all()


def households_named(event):
    return _db.session.scalars(
        select(AuditEventHousehold.household_id).where(
            AuditEventHousehold.audit_event_id == event.id
        )
    ).all()


def test_another_entitys_codice_fiscale_answer_is_audited_naming_the_household(
    client, login_as, db
):
    household, person = foreign_person()
    operator = login_as("entity_operator")
    response = ask_about(client, person)
    assert "già seguita da Associazione Lontana" in response.get_data(as_text=True)
    (event,) = disclosed_by(operator)
    assert households_named(event) == [household.id]


def test_a_similar_person_of_another_entity_is_audited_too(client, login_as, db):
    household, person = foreign_person(name="Associazione Lontana")
    operator = login_as("entity_operator")
    data = intake(
        **member(
            0,
            first_name=person.first_name,
            last_name=person.last_name,
            birth=person.birth_date,
            sex=person.sex,
            cf=factories.codice_fiscale(person.birth_date, person.sex),
        )
    )
    response = post(client, "/households/new", data)
    assert "seguita da Associazione Lontana" in response.get_data(as_text=True)
    (event,) = disclosed_by(operator)
    assert households_named(event) == [household.id]


def test_own_households_are_no_disclosure(client, login_as, db):
    org = factories.organization()
    person = factories.household(org).members[0]
    operator = login_as("entity_operator", org=org)
    assert "già in carico al tuo ente" in ask_about(client, person).get_data(as_text=True)
    assert disclosed_by(operator) == []


def test_past_the_hourly_limit_the_answer_is_refused_with_retry_after(app, client, login_as, db):
    set_setting(disclosures.LIMIT_SETTING, 3)
    operator = login_as("entity_operator")
    people = [foreign_person(name=f"Ente lontano {n}")[1] for n in range(4)]
    _db.session.commit()
    for person in people[:3]:
        assert ask_about(client, person).status_code == 422
    refused = ask_about(client, people[3])
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "troppe volte in un" in body
    assert "Ente lontano 3" not in body
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(disclosed_by(operator)) == 3
    # The count is per user: a colleague still gets answers.
    user = factories.user(role="entity_operator", organization_id=operator.organization_id)
    colleague = signed_in(app, user)
    answer = ask_about(colleague, people[3]).get_data(as_text=True)
    assert "già seguita da Ente lontano 3" in answer


def test_the_count_is_kept_in_the_database_for_one_hour(client, login_as, db):
    """Answers given by another process count; those older than an hour do not."""
    set_setting(disclosures.LIMIT_SETTING, 2)
    operator = login_as("entity_operator")
    _household, person = foreign_person()
    for minutes in (90, 70):
        _db.session.add(
            AuditEvent(
                action=disclosures.DISCLOSED,
                actor_id=operator.id,
                created_at=utcnow() - timedelta(minutes=minutes),
            )
        )
    _db.session.commit()
    assert ask_about(client, person).status_code == 422
    _db.session.add(
        AuditEvent(
            action=disclosures.DISCLOSED,
            actor_id=operator.id,
            created_at=utcnow() - timedelta(minutes=50),
        )
    )
    _db.session.commit()
    refused = ask_about(client, person)
    assert refused.status_code == 429
    assert 9 * 60 <= int(refused.headers["Retry-After"]) <= 10 * 60 + 5


def test_coordinators_are_told_once_an_hour_about_a_user_past_half_the_limit(
    app, client, login_as, db
):
    set_setting(disclosures.LIMIT_SETTING, 4)
    coordinator = factories.user(role="coordinator")
    operator = login_as("entity_operator", full_name="Ugo Curioso")
    people = [foreign_person(name=f"Ente lontano {n}")[1] for n in range(3)]
    _db.session.commit()

    def alerts():
        return _db.session.scalars(
            select(Notification).where(
                Notification.user_id == coordinator.id,
                Notification.kind == disclosures.ALERT,
            )
        ).all()

    ask_about(client, people[0])
    assert alerts() == []
    ask_about(client, people[1])
    ask_about(client, people[2])
    (alert,) = alerts()
    assert alert.object_id == operator.id
    with app.test_request_context():
        assert "Ugo Curioso" in text(alert)
        assert target_url(alert) == (
            f"/audit/?azione={disclosures.DISCLOSED}&utente={operator.username}"
        )
