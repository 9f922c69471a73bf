"""Consent is read again at every sharing step of a referral (issue #18, items 10 and 13).

The operator submits a referral, then the household withdraws its consent (the ledger): the
City can no longer approve it (409, nothing changed), the receiving organization can no longer
accept or open one it had, and none of its lists, counts or exports show it. And the receiving
side cannot learn a household's district by filtering its list with `?circ=`.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.clock import today
from app.errors import DomainError
from app.extensions import db as _db
from app.households.models import Consent
from app.referrals import operations
from app.referrals.models import Referral, ReferralStatusChange
from tests import factories
from tests.test_referrals_views import HTMX, post, text
from tests.worlds import job_service_org, make_referral, signed_in

MOTIVATION = "Segue una terapia per la dipendenza, in cura al SerD di zona."


@pytest.fixture
def net(app, db):
    """A hub that refers (circoscrizione 3), a job service that receives, the City."""
    sender = factories.organization(is_hub=True, is_job_service=True, circoscrizione=3)
    factories.accreditation(sender)
    receiver = job_service_org(circoscrizione=3)
    world = SimpleNamespace(
        sender=sender,
        receiver=receiver,
        service=factories.service(receiver, service_type="orientation"),
        household=factories.household(sender, members=2, circoscrizione=3),
        sender_user=factories.user(role="entity_operator", organization=sender),
        receiver_user=factories.user(role="entity_operator", organization=receiver),
        coordinator=factories.user(role="coordinator"),
    )
    _db.session.commit()
    return world


def withdraw(browser, household, purpose="job_services"):
    """The operator withdraws the household's consent for `purpose` on the household page."""
    consent = _db.session.scalar(
        select(Consent).where(Consent.household_id == household.id, Consent.purpose == purpose)
    )
    response = post(
        browser, f"/households/{household.id}/consents/{consent.id}/withdraw", {"confirm": "y"}
    )
    assert response.status_code in (200, 303), text(response)
    _db.session.expire_all()
    assert _db.session.get(Consent, consent.id).withdrawn_on == today()


def history_of(referral_id):
    return _db.session.scalars(
        select(ReferralStatusChange.to_status).where(
            ReferralStatusChange.referral_id == referral_id
        )
    ).all()


def test_the_city_cannot_approve_once_the_household_withdrew_consent(app, net):
    sender = signed_in(app, net.sender_user)
    referral = make_referral(net.household, net.service, "draft", motivation=MOTIVATION)
    _db.session.commit()
    assert post(sender, f"/referrals/{referral.id}/submit").status_code == 303
    withdraw(sender, net.household)

    city = signed_in(app, net.coordinator)
    response = post(city, f"/referrals/{referral.id}/approve")
    assert response.status_code == 409
    withdrawn = f"servizi al lavoro è stato revocato il {today():%d/%m/%Y}"
    assert withdrawn in text(response)
    assert "La segnalazione non può andare avanti." in text(response)
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "submitted"
    assert _db.session.get(Referral, referral.id).approved_at is None
    assert "approved" not in history_of(referral.id)
    # The queue's row answers the same, as a fragment.
    response = post(city, f"/referrals/{referral.id}/approve", {"row": "queue"}, HTMX)
    assert response.status_code == 409
    assert withdrawn in text(response)
    # Bulk approval says why it was refused.
    response = post(city, "/referrals/bulk-approve", {"ids": str(referral.id)})
    assert response.status_code == 303
    page = text(city.get(response.headers["Location"]))
    assert withdrawn in page
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "submitted"
    # The receiving organization never saw anything.
    receiver = signed_in(app, net.receiver_user)
    assert receiver.get(f"/referrals/{referral.id}").status_code == 404


def test_a_consent_for_housing_only_refuses_the_approval(app, net):
    referral = make_referral(net.household, net.service, "submitted")
    factories.withdraw_all(net.household, "job_services")
    _db.session.commit()
    city = signed_in(app, net.coordinator)
    assert post(city, f"/referrals/{referral.id}/approve").status_code == 409
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "submitted"


def test_the_receiver_neither_accepts_nor_reads_a_referral_after_the_withdrawal(app, net):
    approved = make_referral(net.household, net.service, "approved", motivation=MOTIVATION)
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)
    before = text(receiver.get(f"/referrals/{approved.id}"))
    assert MOTIVATION in before  # the minimal view while consent is in force

    withdraw(signed_in(app, net.sender_user), net.household)
    views_before = _db.session.query(AuditEvent).filter_by(action="referral_viewed").count()
    assert receiver.get(f"/referrals/{approved.id}").status_code == 404
    assert post(receiver, f"/referrals/{approved.id}/accept").status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Referral, approved.id).status == "approved"
    person = net.household.members[0]
    for path in ("/referrals/", "/referrals/?status=approved", "/referrals/export.csv", "/"):
        body = text(receiver.get(path))
        assert person.last_name not in body, path
        assert MOTIVATION not in body, path
        assert f"/referrals/{approved.id}" not in body, path
    assert _db.session.query(AuditEvent).filter_by(action="referral_viewed").count() == (
        views_before
    )
    # The sender and the City still see their referral, and may cancel or close it.
    sender = signed_in(app, net.sender_user)
    assert sender.get(f"/referrals/{approved.id}").status_code == 200
    assert post(sender, f"/referrals/{approved.id}/cancel").status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Referral, approved.id).status == "cancelled"


def test_the_receiver_cannot_start_an_accepted_referral_after_the_withdrawal(app, net):
    """The operation itself re-reads the consent under the household's lock: a household object
    loaded before the withdrawal was committed does not let the step through."""
    accepted = make_referral(net.household, net.service, "accepted")
    _db.session.commit()
    stale_copy = _db.session.get(Referral, accepted.id)
    ledger = _db.session.scalars(
        select(Consent).where(Consent.household_id == net.household.id)
    ).all()  # loaded now, before the withdrawal
    assert all(c.withdrawn_on is None for c in ledger)
    with _db.engine.begin() as other_request:  # the withdrawal, committed by someone else
        other_request.execute(
            Consent.__table__.update()
            .where(Consent.__table__.c.household_id == net.household.id)
            .values(withdrawn_on=today())
        )
    with app.test_request_context(), pytest.raises(DomainError, match="è stato revocato"):
        operations.apply_step(stale_copy, "start", net.receiver_user)
    _db.session.rollback()
    assert _db.session.get(Referral, accepted.id).status == "accepted"


def test_the_receiving_side_cannot_filter_by_district(app, net):
    """`?circ=` is an oracle if it filters what the receiver sees without the district."""
    received = make_referral(net.household, net.service, "approved")
    own_household = factories.household(net.receiver, circoscrizione=5)
    own_service = factories.service(net.sender, name="Tirocini")
    sent = make_referral(own_household, own_service, "submitted")
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)

    def listed(path):
        body = text(receiver.get(path, headers=HTMX))
        return {r for r in (received.id, sent.id) if f'/referrals/{r}"' in body}

    assert listed("/referrals/") == {received.id, sent.id}
    # The received referral's household is in circoscrizione 3: filtering by 3 or by any other
    # district answers the same about it (it is never in a district-filtered list).
    assert listed("/referrals/?circ=3") == set()
    assert listed("/referrals/?circ=4") == set()
    assert listed("/referrals/?circ=5") == {sent.id}
    csv = text(receiver.get("/referrals/export.csv?circ=3"))
    assert f"\n{received.id}," not in csv
    assert "solo segnalazioni inviate" in text(receiver.get("/referrals/"))
    # The City filters every referral by district.
    city = signed_in(app, net.coordinator)
    body = text(city.get("/referrals/?circ=3", headers=HTMX))
    assert f'/referrals/{received.id}"' in body
