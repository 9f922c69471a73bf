"""Consent as a ledger (issue #24): the one rule, what it refuses and with which words, what a
withdrawal does, what is recorded as shared, the household's Privacy section, the operator's
home and the subject's extract."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.audit.models import AuditEvent
from app.clock import today
from app.extensions import db as _db
from app.households.consents import (
    ANY,
    add_months,
    consent_clause,
    consent_in_force,
    consent_state,
    refusal,
)
from app.households.models import Consent, ConsentShare, Household
from app.notifications.models import Notification
from app.referrals.models import Referral
from tests import factories
from tests.test_referrals_views import HTMX, count, post, text
from tests.worlds import job_service_org, make_net, make_referral, signed_in

DAY = date(2026, 6, 15)


@pytest.fixture
def net(app, db):
    return make_net()


def only(household, *consents):
    """The household's ledger is exactly these consents."""
    _db.session.execute(delete(Consent).where(Consent.household_id == household.id))
    for values in consents:
        factories.consent(household, **values)
    _db.session.commit()


def in_force_by_sql(household, purpose, recipient, day):
    return bool(
        _db.session.scalar(
            select(func.count())
            .select_from(Household)
            .where(
                Household.id == household.id, consent_clause(Household.id, purpose, recipient, day)
            )
        )
    )


# The rule ---------------------------------------------------------------------------------------


def test_a_consent_for_the_network_covers_every_recipient_a_named_one_only_its_own(db):
    household = factories.household(sharing_scope=None)
    named, other = factories.organization(), factories.organization()
    factories.consent(household, "job_services", given_on=date(2026, 1, 1))
    factories.consent(household, "housing", recipient=named, given_on=date(2026, 1, 1))

    for check in (consent_in_force, in_force_by_sql):
        assert check(household, "job_services", named.id, DAY)
        assert check(household, "job_services", other.id, DAY)
        assert check(household, "job_services", None, DAY)
        assert check(household, "housing", named.id, DAY)
        assert not check(household, "housing", other.id, DAY)
        assert not check(household, "housing", None, DAY)  # the network is not covered
        assert check(household, "housing", ANY, DAY)
        assert not check(household, "project", ANY, DAY)


def test_a_consent_is_in_force_from_its_signature_to_its_expiry_until_withdrawn(db):
    household = factories.household(sharing_scope=None)
    expiring = factories.consent(
        household, "job_services", given_on=date(2026, 1, 1), expires_on=date(2026, 6, 30)
    )
    withdrawn = factories.consent(
        household, "housing", given_on=date(2026, 1, 1), withdrawn_on=date(2026, 3, 1)
    )
    for check in (consent_in_force, in_force_by_sql):
        assert not check(household, "job_services", None, date(2025, 12, 31))
        assert check(household, "job_services", None, date(2026, 1, 1))
        assert check(household, "job_services", None, date(2026, 6, 30))  # the last day
        assert not check(household, "job_services", None, date(2026, 7, 1))
        assert check(household, "housing", None, date(2026, 2, 28))
        assert not check(household, "housing", None, date(2026, 3, 1))
    assert consent_state(expiring, date(2026, 5, 31)) == "expiring"  # 30 days ahead
    assert consent_state(expiring, date(2026, 5, 30)) == "in_force"
    assert consent_state(expiring, date(2026, 7, 1)) == "expired"
    assert consent_state(withdrawn, date(2026, 3, 1)) == "withdrawn"
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 7), 12) == date(2027, 12, 7)


def test_the_refusal_says_when_the_consent_expired_or_was_withdrawn(db):
    household = factories.household(sharing_scope=None)
    factories.consent(
        household, "job_services", given_on=date(2025, 10, 1), expires_on=date(2026, 10, 31)
    )
    assert refusal(household, "job_services", None, date(2026, 10, 31)) is None
    assert refusal(household, "job_services", None, date(2026, 11, 2)) == (
        "Il consenso del nucleo per i servizi al lavoro è scaduto il 31/10/2026: registrane "
        "uno nuovo nella sezione Privacy."
    )
    factories.consent(household, "housing", withdrawn_on=date(2026, 2, 3))
    assert "accoglienza abitativa è stato revocato il 03/02/2026" in refusal(
        household, "housing", None, DAY
    )
    assert refusal(household, "project", None, DAY).startswith("Manca il consenso del nucleo")


# Referrals --------------------------------------------------------------------------------------


def send(browser, net, action="submit"):
    return post(
        browser,
        f"/referrals/new?household={net.household.id}",
        {
            "person": str(net.household.members[0].id),
            "need": "orientation",
            "service": str(net.service.id),
            "motivation": "Ha bisogno di orientamento dopo anni di lavoro in nero.",
            "action": action,
        },
    )


def test_an_expired_consent_refuses_the_submit_with_the_date_and_saves_nothing(app, net):
    expired_on = today() - timedelta(days=3)
    only(
        net.household,
        {
            "purpose": "job_services",
            "given_on": expired_on - timedelta(days=365),
            "expires_on": expired_on,
        },
    )
    browser = signed_in(app, net.sender_user)
    said = (
        f"Il consenso del nucleo per i servizi al lavoro è scaduto il {expired_on:%d/%m/%Y}: "
        "registrane uno nuovo nella sezione Privacy."
    )
    page = text(browser.get(f"/referrals/new?household={net.household.id}&need=orientation"))
    assert said in page

    response = send(browser, net)

    assert response.status_code == 422
    assert said in text(response)
    assert count(Referral) == 0
    # A draft may still be saved; only sending needs the consent.
    assert send(browser, net, "draft").status_code == 303
    assert _db.session.scalar(select(Referral.status)) == "draft"


def test_a_consent_naming_another_entity_does_not_cover_the_service(app, net):
    other = job_service_org()
    only(net.household, {"purpose": "job_services", "recipient": other})
    browser = signed_in(app, net.sender_user)

    response = send(browser, net)

    assert response.status_code == 422
    assert (
        "Manca il consenso del nucleo per i servizi al lavoro che copra Cooperativa Lavoro "
        "Insieme (o tutta la rete)"
    ) in text(response)
    only(net.household, {"purpose": "job_services", "recipient": net.receiver})
    assert send(browser, net).status_code == 303
    assert _db.session.scalar(select(Referral.status)) == "submitted"


def test_the_approval_is_a_share_under_the_consent_and_the_extract_lists_it(app, net):
    only(net.household, {"purpose": "job_services", "recipient": net.receiver})
    consent = _db.session.scalar(select(Consent))
    referral = make_referral(net.household, net.service, "submitted")
    _db.session.commit()
    city = signed_in(app, net.coordinator)
    assert post(city, f"/referrals/{referral.id}/approve").status_code == 303

    (share,) = _db.session.scalars(select(ConsentShare)).all()
    assert (share.consent_id, share.recipient_organization_id) == (consent.id, net.receiver.id)
    assert (share.object_type, share.object_id) == ("referral", referral.id)
    person = net.household.members[0]
    data = city.get(f"/households/{net.household.id}/people/{person.id}/export.json").get_json()
    (listed,) = data["consents"]
    assert listed["recipient"] == "Cooperativa Lavoro Insieme"
    assert listed["shares"] == [
        {
            "recipient": "Cooperativa Lavoro Insieme",
            "object": {"type": "referral", "id": referral.id},
            "shared_at": listed["shares"][0]["shared_at"],
        }
    ]
    page = text(city.get(f"/households/{net.household.id}/people/{person.id}/export"))
    assert f"segnalazione n. {referral.id}" in page


def test_an_expired_consent_hides_the_referral_from_the_receiver(app, net):
    referral = make_referral(net.household, net.service, "accepted")
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)
    assert receiver.get(f"/referrals/{referral.id}").status_code == 200
    only(
        net.household,
        {
            "purpose": "job_services",
            "given_on": today() - timedelta(days=400),
            "expires_on": today() - timedelta(days=1),
        },
    )
    assert receiver.get(f"/referrals/{referral.id}").status_code == 404
    assert f"/referrals/{referral.id}" not in text(receiver.get("/referrals/"))


def test_a_withdrawal_notifies_the_recipients_and_keeps_what_was_shared(app, net):
    referral = make_referral(net.household, net.service, "submitted")
    _db.session.commit()
    city = signed_in(app, net.coordinator)
    assert post(city, f"/referrals/{referral.id}/approve").status_code == 303
    consent = _db.session.scalar(
        select(Consent).where(
            Consent.household_id == net.household.id, Consent.purpose == "job_services"
        )
    )
    sender = signed_in(app, net.sender_user)
    path = f"/households/{net.household.id}/consents/{consent.id}/withdraw"

    unconfirmed = post(sender, path, {}, HTMX)
    assert unconfirmed.status_code == 422
    assert "Conferma la revoca" in text(unconfirmed)
    response = post(sender, path, {"confirm": "y"}, HTMX)

    assert response.status_code == 200
    assert "<html" not in text(response)
    assert "revocato" in text(response)
    told = _db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "consent_withdrawn")
    ).all()
    assert told == [net.receiver_user.id]
    assert count(ConsentShare) == 1  # never erased
    assert count(AuditEvent, AuditEvent.action == "consent_withdrawn") == 1
    again = post(sender, path, {"confirm": "y"})
    assert again.status_code == 409
    assert count(AuditEvent, AuditEvent.action == "consent_withdrawn") == 1


# The Privacy section ----------------------------------------------------------------------------


def consent_form(**values):
    return {
        "consent-purpose": "housing",
        "consent-recipient": "",
        "consent-given_on": today().isoformat(),
        "consent-expires_on": add_months(today(), 12).isoformat(),
        "consent-signed_form": "Prot. 2026/4711",
        "consent-idempotency_key": "chiave-del-modulo-0001",
        **values,
    }


def test_the_operator_records_a_consent_once_even_if_sent_twice(app, net):
    browser = signed_in(app, net.sender_user)
    page = text(browser.get(f"/households/{net.household.id}"))
    assert "Registra consenso" in page
    assert "Proposta: 12 mesi dalla firma" in page
    assert f'value="{add_months(today(), 12).isoformat()}"' in page

    values = consent_form(**{"consent-recipient": str(net.receiver.id)})
    first = post(browser, f"/households/{net.household.id}/consents", values, HTMX)
    second = post(browser, f"/households/{net.household.id}/consents", values, HTMX)

    assert first.status_code == second.status_code == 200
    assert "<html" not in text(first)
    assert "Cooperativa Lavoro Insieme" in text(first)
    assert "Prot. 2026/4711" in text(first)
    assert count(Consent, Consent.signed_form == "Prot. 2026/4711") == 1
    assert count(AuditEvent, AuditEvent.action == "consent_recorded") == 1


def test_a_consent_without_the_signed_form_or_expiry_is_refused_next_to_the_field(app, net):
    browser = signed_in(app, net.sender_user)
    values = consent_form(**{"consent-signed_form": "", "consent-expires_on": ""})

    response = post(browser, f"/households/{net.household.id}/consents", values, HTMX)

    body = text(response)
    assert response.status_code == 422
    assert 'id="consent-signed_form-error"' in body
    assert "Indica dove si trova il modulo firmato" in body
    assert 'id="consent-expires_on-error"' in body
    assert f'value="{today().isoformat()}"' in body  # what was written stays
    assert count(Consent, Consent.purpose == "housing", Consent.signed_form != "") == 1


def test_other_entities_cannot_record_or_withdraw_a_households_consent(app, net):
    consent = _db.session.scalar(select(Consent).where(Consent.household_id == net.household.id))
    outsider = signed_in(app, net.receiver_user)
    assert (
        post(outsider, f"/households/{net.household.id}/consents", consent_form()).status_code
        == 404
    )
    path = f"/households/{net.household.id}/consents/{consent.id}/withdraw"
    assert post(outsider, path, {"confirm": "y"}).status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Consent, consent.id).withdrawn_on is None


# The operator's home ----------------------------------------------------------------------------


def test_the_home_lists_the_consents_expiring_within_30_days_of_the_operators_households(app, net):
    soon, later = today() + timedelta(days=12), today() + timedelta(days=45)
    only(
        net.household,
        {"purpose": "job_services", "expires_on": soon},
        {"purpose": "housing", "expires_on": later},
        {"purpose": "project", "expires_on": soon, "withdrawn_on": today() - timedelta(days=1)},
    )
    others = factories.household(net.receiver)
    only(others, {"purpose": "job_services", "expires_on": soon})

    home = text(signed_in(app, net.sender_user).get("/"))

    assert "Consensi in scadenza" in home
    assert f"scade il {soon:%d/%m/%Y}" in home
    assert f"scade il {later:%d/%m/%Y}" not in home
    assert home.count(f"scade il {soon:%d/%m/%Y}") == 1  # not the withdrawn one
    assert f"/households/{net.household.id}#consents-title" in home
    assert f"/households/{others.id}#" not in home
    receiver_home = text(signed_in(app, net.receiver_user).get("/"))
    assert f"/households/{others.id}#consents-title" in receiver_home
    assert f"/households/{net.household.id}#" not in receiver_home
