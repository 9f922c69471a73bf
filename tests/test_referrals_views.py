"""Referral pages: the coordinator's queue, a new referral from the ranked suggestions, the
detail with its timeline, every step by the right side, and what each side may see."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clock import today
from app.extensions import db as _db
from app.notifications.models import Notification
from app.referrals.models import Referral, ReferralStatusChange
from tests import factories
from tests.conftest import csrf_token_from
from tests.worlds import job_service_org, make_net, make_referral, signed_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


# Helpers --------------------------------------------------------------------------------------


@pytest.fixture
def net(app, db):
    """A hub that refers (circoscrizione 3), a job service that receives, the City."""
    return make_net()


def post(browser, path, data=None, headers=None):
    token = csrf_token_from(browser.get("/account").get_data(as_text=True))
    return browser.post(path, data={**(data or {}), "csrf_token": token}, headers=headers or {})


def count(model, *where):
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def actions_of(referral_id):
    return _db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "referral", AuditEvent.object_id == referral_id
        )
    ).all()


def text(response):
    return response.get_data(as_text=True).replace("&#39;", "'")


# The coordinator's queue ----------------------------------------------------------------------


def test_queue_lists_pending_referrals_oldest_first_with_their_reasons(app, net):
    reasons = [
        ["type_primary", {"type": "orientation"}],
        ["same_district", {"circ": 3}],
        ["language", {"languages": ["ar", "fr"]}],
        ["places_left", {"n": 3}],
    ]
    recent = make_referral(net.household, net.service, days_ago=1, need="training")
    oldest = make_referral(
        net.household, net.service, days_ago=20, match_score=80, match_reasons=reasons
    )
    middle = make_referral(net.household, net.service, days_ago=3, need="job_search")
    make_referral(net.household, net.service, "approved", need="digital_skills")
    _db.session.commit()

    body = text(signed_in(app, net.coordinator).get("/referrals/?status=submitted"))

    rows = re.findall(r'<tr id="referral-(\d+)"', body)
    assert rows == [str(oldest.id), str(middle.id), str(recent.id)]
    assert "servizio adatto al bisogno: Orientamento" in body
    assert "stessa circoscrizione" in body
    assert "parla arabo, francese" in body
    assert "posti disponibili: 3" in body
    assert "punteggio 80" in body
    assert "Approva le selezionate" in body


def test_overdue_referrals_are_highlighted_with_a_badge(app, net):
    late = make_referral(net.household, net.service, days_ago=20)
    fresh = make_referral(net.household, net.service, days_ago=0, need="training")
    _db.session.commit()

    body = text(signed_in(app, net.coordinator).get("/referrals/?status=submitted"))

    late_row = re.search(rf'<tr id="referral-{late.id}".*?</tr>', body, re.S).group(0)
    fresh_row = re.search(rf'<tr id="referral-{fresh.id}".*?</tr>', body, re.S).group(0)
    assert "referral-overdue" in late_row.split(">")[0]
    assert "in ritardo" in late_row
    assert "referral-overdue" not in fresh_row.split(">")[0]
    assert "in ritardo" not in fresh_row
    overdue_only = text(
        signed_in(app, net.coordinator).get("/referrals/?status=submitted&scadute=1")
    )
    assert re.findall(r'<tr id="referral-(\d+)"', overdue_only) == [str(late.id)]


def test_coordinator_approves_in_place_and_gets_the_updated_row(app, net):
    referral = make_referral(net.household, net.service)
    _db.session.commit()
    browser = signed_in(app, net.coordinator)

    response = post(browser, f"/referrals/{referral.id}/approve", {"row": "queue"}, headers=HTMX)

    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith(f'<tr id="referral-{referral.id}"')
    assert "approvata, in attesa dell'ente" in body
    assert ">Approva<" not in body  # nothing left to decide on this row
    _db.session.refresh(referral)
    assert referral.status == "approved"
    assert "referral_approved" in actions_of(referral.id)
    told = _db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "referral_approved")
    ).all()
    assert told == [net.receiver_user.id]


def test_reject_without_a_reason_is_refused_in_the_row_and_nothing_changes(app, net):
    referral = make_referral(net.household, net.service)
    _db.session.commit()
    browser = signed_in(app, net.coordinator)

    response = post(
        browser,
        f"/referrals/{referral.id}/reject",
        {"row": "queue", "reason_code": "", "note": "non va"},
        headers=HTMX,
    )

    body = text(response)
    assert response.status_code == 422
    assert f'<tr id="referral-{referral.id}"' in body
    assert "Indica il motivo." in body
    _db.session.refresh(referral)
    assert referral.status == "submitted"
    assert count(ReferralStatusChange) == 0
    assert "referral_rejected" not in actions_of(referral.id)


def test_reject_with_a_reason_is_shown_to_the_sender(app, net):
    referral = make_referral(net.household, net.service)
    _db.session.commit()

    response = post(
        signed_in(app, net.coordinator),
        f"/referrals/{referral.id}/reject",
        {"row": "queue", "reason_code": "incomplete", "note": "Manca il CV."},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "respinta dalla Città" in text(response)
    body = text(signed_in(app, net.sender_user).get(f"/referrals/{referral.id}"))
    assert "motivazione o dati insufficienti" in body
    assert "Manca il CV." in body


def test_bulk_approve_approves_what_it_can_and_says_what_it_refused(app, net):
    suspended = factories.organization(is_job_service=True, name="Ente Sospeso")
    factories.accreditation(suspended, status="suspended")
    elsewhere = factories.service(suspended)
    first = make_referral(net.household, net.service, days_ago=2)
    second = make_referral(net.household, net.service, days_ago=1, need="training")
    refused = make_referral(net.household, elsewhere, need="job_search")
    left_alone = make_referral(net.household, net.service, need="digital_skills")
    _db.session.commit()
    browser = signed_in(app, net.coordinator)

    response = post(
        browser,
        "/referrals/bulk-approve",
        {"ids": [str(first.id), str(second.id), str(refused.id), "999999"]},
    )

    assert response.status_code == 303
    body = text(browser.get(response.headers["Location"]))
    assert "2 segnalazioni approvate." in body
    assert f"n. {refused.id}: Ente Sospeso non può ricevere segnalazioni" in body
    assert "n. 999999: non trovata" in body
    statuses = {r.id: r.status for r in _db.session.scalars(select(Referral))}
    assert statuses == {
        first.id: "approved",
        second.id: "approved",
        refused.id: "submitted",
        left_alone.id: "submitted",
    }
    assert count(ReferralStatusChange) == 2


def test_open_referrals_to_an_entity_no_longer_accredited_are_flagged(app, net):
    lapsed = factories.organization(is_job_service=True)
    factories.accreditation(lapsed, status="expired")
    make_referral(net.household, factories.service(lapsed))
    _db.session.commit()

    body = text(signed_in(app, net.coordinator).get("/referrals/"))

    assert body.count("ente non più accreditato") == 1


# The list, by role ---------------------------------------------------------------------------


def test_list_filters_live_with_htmx_and_keeps_a_clean_address(app, net):
    make_referral(net.household, net.service, "approved")
    make_referral(net.household, net.service, "rejected", need="training")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)

    response = browser.get("/referrals/?status=approved&circ=3&pagina=1", headers=HTMX)

    body = text(response)
    assert "<html" not in body
    assert "1 segnalazione trovata" in body
    assert response.headers["HX-Push-Url"] == "/referrals/?status=approved&circ=3"
    assert "<html" in browser.get("/referrals/?status=approved").get_data(as_text=True)
    assert "0 segnalazioni trovate" in text(browser.get("/referrals/?circ=5"))


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("dal={today}", 2),
        ("dal={tomorrow}", 0),
        ("al={yesterday}", 0),
        ("dal={today_it}&al={today_it}", 2),  # typed the Italian way
        ("servizio={service}", 1),
        ("servizio={other_service}", 2),  # not a service of the user's referrals: ignored
        ("status=nonsense&circ=99&dal=ieri", 2),  # what makes no sense is ignored
    ],
)
def test_list_filters_by_period_and_service(app, net, query, found):
    other = factories.service(net.receiver, name="Corso di italiano")
    make_referral(net.household, net.service, "approved")
    make_referral(net.household, other, "submitted", need="italian_language")
    unrelated = factories.service(job_service_org())
    _db.session.commit()
    day = today()
    values = {
        "today": day.isoformat(),
        "tomorrow": (day + timedelta(days=1)).isoformat(),
        "yesterday": (day - timedelta(days=1)).isoformat(),
        "today_it": day.strftime("%d/%m/%Y"),
        "service": net.service.id,
        "other_service": unrelated.id,
    }

    body = text(signed_in(app, net.sender_user).get("/referrals/?" + query.format(**values)))

    assert len(re.findall(r'<tr id="referral-', body)) == found


def test_receiver_sees_only_approved_referrals_and_only_the_persons_name(app, net):
    reference = net.household.members[0]
    waiting = make_referral(net.household, net.service, "submitted", need="training")
    approved = make_referral(net.household, net.service, "approved")
    _db.session.commit()
    browser = signed_in(app, net.receiver_user)

    body = text(browser.get("/referrals/"))

    assert re.findall(r'<tr id="referral-(\d+)"', body) == [str(approved.id)]
    assert reference.full_name in body
    assert browser.get(f"/referrals/{waiting.id}").status_code == 404
    assert post(browser, f"/referrals/{waiting.id}/decline").status_code == 404


def test_an_entitys_list_pages_through_sent_and_received_newest_first(app, net, monkeypatch):
    """The list reads each side (sent, received) apart: the pages must still be the one list,
    newest change first, each referral once, and nothing received before the City's approval."""
    monkeypatch.setattr("app.referrals.views.PAGE_SIZE", 4)
    own_service = factories.service(
        net.sender, name="Sportello interno", service_type="orientation"
    )
    inbound = factories.household(net.receiver, members=1, circoscrizione=3)
    inbound_service = factories.service(net.sender, name="Tirocini", service_type="internship")
    made = []
    for n in range(5):  # sent to the other entity, in several states
        made.append(make_referral(net.household, net.service, "submitted", days_ago=n * 3))
    for n in range(4):  # sent to its own service: both sides at once
        made.append(make_referral(net.household, own_service, "approved", days_ago=n * 3 + 1))
    for n in range(4):  # received from the other entity once approved
        made.append(make_referral(inbound, inbound_service, "accepted", days_ago=n * 3 + 2))
    hidden = make_referral(inbound, inbound_service, "submitted", days_ago=0)  # not approved yet
    # Two changes at the same moment: the order falls back on the number, newest first.
    made[0].status_changed_at = made[5].status_changed_at
    _db.session.commit()
    expected = [r.id for r in sorted(made, key=lambda r: (r.status_changed_at, r.id), reverse=True)]
    browser = signed_in(app, net.sender_user)

    shown = []
    for page in (1, 2, 3, 4):
        body = text(browser.get(f"/referrals/?pagina={page}"))
        shown += [int(n) for n in re.findall(r'<tr id="referral-(\d+)"', body)]

    assert shown == expected
    assert hidden.id not in shown
    assert "13 segnalazioni trovate" in body


def test_another_entity_guessing_an_id_gets_404_and_changes_nothing(app, net):
    referral = make_referral(net.household, net.service, "approved")
    _db.session.commit()
    stranger = factories.user(role="entity_operator", organization=job_service_org())
    _db.session.commit()
    browser = signed_in(app, stranger)

    assert browser.get(f"/referrals/{referral.id}").status_code == 404
    assert post(browser, f"/referrals/{referral.id}/accept").status_code == 404
    assert post(browser, f"/referrals/{referral.id}/cancel", headers=HTMX).status_code == 404
    assert f'id="referral-{referral.id}"' not in text(browser.get("/referrals/"))
    _db.session.refresh(referral)
    assert referral.status == "approved"


def test_receiver_gets_the_minimal_view_of_the_household(app, net):
    person = net.household.members[0]
    person.languages = ["it", "ar"]
    referral = make_referral(net.household, net.service, "approved")
    _db.session.commit()

    body = text(signed_in(app, net.receiver_user).get(f"/referrals/{referral.id}"))

    assert person.full_name in body
    assert "arabo" in body
    assert "Cerca un percorso di orientamento" in body
    assert person.codice_fiscale not in body
    assert "4500" not in body
    assert "4.500" not in body
    assert "Via Segreta" not in body
    assert f"/households/{net.household.id}" not in body
    assert "Accetta" in body
    assert "Rifiuta" in body


def test_sender_and_coordinator_see_the_household_with_a_link(app, net):
    referral = make_referral(net.household, net.service, "submitted")
    _db.session.commit()

    for user in (net.sender_user, net.coordinator):
        body = text(signed_in(app, user).get(f"/referrals/{referral.id}"))
        assert f'href="/households/{net.household.id}"' in body
        assert net.household.display_name in body


# Opening a referral --------------------------------------------------------------------------


def test_opening_a_referral_is_audited_and_reads_its_notifications(app, net):
    referral = make_referral(net.household, net.service, "approved")
    other = make_referral(net.household, net.service, "approved", need="training")
    for object_id in (referral.id, other.id):
        _db.session.add(
            Notification(
                user_id=net.receiver_user.id,
                kind="referral_approved",
                object_type="referral",
                object_id=object_id,
                params={},
            )
        )
    _db.session.commit()

    response = signed_in(app, net.receiver_user).get(f"/referrals/{referral.id}")

    assert response.status_code == 200
    unread = _db.session.scalars(
        select(Notification.object_id).where(Notification.read_at.is_(None))
    ).all()
    assert unread == [other.id]
    viewed = _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "referral_viewed", AuditEvent.object_id == referral.id
        )
    ).all()
    assert [event.actor_id for event in viewed] == [net.receiver_user.id]


# Steps: the whole journey, and the refused ones -----------------------------------------------


def test_a_referral_goes_from_draft_to_outcome_with_history_audit_and_timeline(app, net):
    sender = signed_in(app, net.sender_user)
    created = post(
        sender,
        f"/referrals/new?household={net.household.id}",
        {
            "person": str(net.household.members[1].id),
            "need": "orientation",
            "service": str(net.service.id),
            "motivation": "Giovane in cerca di orientamento.",
            "action": "draft",
        },
    )
    assert created.status_code == 303, text(created)[:3000]
    referral = _db.session.scalar(select(Referral))
    assert created.headers["Location"] == f"/referrals/{referral.id}"
    assert referral.status == "draft"
    assert referral.person_id == net.household.members[1].id
    assert referral.match_score is not None
    assert ["same_district", {"circ": 3, "points": 25}] in referral.match_reasons

    steps = [
        (sender, "submit", {}, "submitted", "Segnalazione inviata alla Città"),
        (signed_in(app, net.coordinator), "approve", {}, "approved", "Segnalazione approvata."),
        (signed_in(app, net.receiver_user), "accept", {}, "accepted", "Segnalazione accettata."),
        (signed_in(app, net.receiver_user), "start", {}, "in_progress", "Percorso avviato."),
        (
            signed_in(app, net.receiver_user),
            "complete",
            {"reason_code": "employment_contract", "note": "Assunta a tempo determinato."},
            "completed",
            "Segnalazione chiusa con esito positivo.",
        ),
    ]
    for number, (browser, action, data, status, message) in enumerate(steps, start=2):
        response = post(browser, f"/referrals/{referral.id}/{action}", data)
        assert response.status_code == 303, (action, text(response)[:2000])
        assert message in text(browser.get(response.headers["Location"]))
        _db.session.refresh(referral)
        assert referral.status == status
        assert count(ReferralStatusChange, ReferralStatusChange.referral_id == referral.id) == (
            number
        )
        assert f"referral_{status}" in actions_of(referral.id)

    body = text(sender.get(f"/referrals/{referral.id}"))
    assert "conclusa con esito positivo" in body
    assert "contratto di lavoro" in body
    assert "Assunta a tempo determinato." in body
    assert body.count("<time ") == 6  # the timeline: created, then five steps
    assert net.receiver_user.full_name in body
    assert "Cooperativa Lavoro Insieme" in body


@pytest.mark.parametrize(
    ("who", "status", "action", "message"),
    [
        ("sender_user", "submitted", "approve", "Non spetta a te approvare"),
        ("coordinator", "approved", "accept", "Non spetta a te accettare"),
        ("receiver_user", "accepted", "complete", "ora non si può chiudere con esito positivo"),
        ("coordinator", "approved", "approve", "questo passo è già stato fatto"),
        ("sender_user", "accepted", "cancel", "ora non si può annullare"),
    ],
)
def test_wrong_side_or_wrong_moment_is_refused_with_409_and_nothing_changes(
    app, net, who, status, action, message
):
    referral = make_referral(net.household, net.service, status)
    _db.session.commit()
    browser = signed_in(app, getattr(net, who))

    response = post(
        browser,
        f"/referrals/{referral.id}/{action}",
        {"reason_code": "employment_contract"},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert message in text(response)
    assert "<html" not in text(response)
    _db.session.refresh(referral)
    assert referral.status == status
    assert count(ReferralStatusChange) == 0
    assert actions_of(referral.id) == []
    # The same refusal from a plain form: the message on the referral's page. A step the
    # referral's state refuses answers 409 with the page as it is now, without a redirect.
    plain = post(browser, f"/referrals/{referral.id}/{action}", {"reason_code": "x"})
    if message.startswith("Non spetta"):
        assert plain.status_code == 303
        assert message in text(browser.get(plain.headers["Location"]))
    else:
        assert plain.status_code == 409
        assert message in text(plain)
        assert f"Segnalazione n. {referral.id}" in text(plain)


def test_unknown_action_is_404(app, net):
    referral = make_referral(net.household, net.service)
    _db.session.commit()

    response = post(signed_in(app, net.coordinator), f"/referrals/{referral.id}/delete")

    assert response.status_code == 404


def test_decline_needs_a_reason_and_other_needs_a_note(app, net):
    referral = make_referral(net.household, net.service, "approved")
    _db.session.commit()
    browser = signed_in(app, net.receiver_user)

    missing = post(browser, f"/referrals/{referral.id}/decline", {"reason_code": ""}, HTMX)
    bare_other = post(browser, f"/referrals/{referral.id}/decline", {"reason_code": "other"}, HTMX)

    assert missing.status_code == 422
    assert "Indica il motivo." in text(missing)
    assert bare_other.status_code == 422
    assert "Descrivi il motivo nella nota." in text(bare_other)
    _db.session.refresh(referral)
    assert referral.status == "approved"
    done = post(browser, f"/referrals/{referral.id}/decline", {"reason_code": "no_capacity"})
    assert done.status_code == 303
    _db.session.refresh(referral)
    assert (referral.status, referral.reason_code) == ("declined", "no_capacity")


# A new referral ------------------------------------------------------------------------------


def test_new_referral_ranks_a_service_of_the_same_circoscrizione_first(app, net):
    far = job_service_org(circoscrizione=6)
    factories.service(far, name="Orientamento Barriera", service_type="orientation")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)

    page = text(browser.get(f"/referrals/new?household={net.household.id}&need=orientation"))

    assert page.index("Orientamento al lavoro") < page.index("Orientamento Barriera")
    first = page[page.index("Orientamento al lavoro") : page.index("Orientamento Barriera")]
    assert "stessa circoscrizione" in first
    assert "servizio adatto al bisogno: Orientamento" in first
    fragment = text(
        browser.get(
            f"/referrals/new?household={net.household.id}&need=job_search"
            f"&person={net.household.members[1].id}",
            headers=HTMX,
        )
    )
    assert "<html" not in fragment
    assert "Servizi suggeriti" in fragment
    assert "servizio affine: Orientamento" in fragment  # related to job search


def test_sending_without_a_consent_is_refused_and_nothing_is_saved(app, net):
    factories.withdraw_all(net.household, on=date(2026, 3, 1))
    _db.session.commit()
    browser = signed_in(app, net.sender_user)
    url = f"/referrals/new?household={net.household.id}"

    warning = text(browser.get(url + "&need=orientation"))
    response = post(
        browser,
        url,
        {
            "person": str(net.household.members[0].id),
            "need": "orientation",
            "service": str(net.service.id),
            "motivation": "Motivazione scritta con cura.",
            "action": "submit",
        },
    )

    revoked = "Il consenso del nucleo per i servizi al lavoro è stato revocato il 01/03/2026"
    assert revoked in warning
    assert f"/households/{net.household.id}#privacy-title" in warning
    body = text(response)
    assert response.status_code == 422
    assert revoked in body
    assert "Motivazione scritta con cura." in body
    assert count(Referral) == 0
    assert count(AuditEvent, AuditEvent.action == "referral_created") == 0


def _closed(net):
    net.service.monthly_capacity = 0
    return net.service


def _suspended(net):
    net.receiver.accreditation.status = "suspended"
    return net.service


def _duplicate(net):
    make_referral(net.household, net.service, "draft")
    return net.service


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (_closed, "non ha posti mensili per le segnalazioni"),
        (_suspended, "non può ricevere segnalazioni"),
        (_duplicate, "C'è già una segnalazione aperta per lo stesso bisogno"),
    ],
    ids=["no places", "suspended", "duplicate"],
)
def test_a_referral_that_breaks_a_rule_is_refused_with_its_reason(app, net, setup, message):
    service = setup(net)
    _db.session.commit()
    before = count(Referral)

    response = post(
        signed_in(app, net.sender_user),
        f"/referrals/new?household={net.household.id}",
        {
            "person": str(net.household.members[0].id),
            "need": "orientation",
            "service": str(service.id),
            "motivation": "Motivazione.",
            "action": "draft",
        },
    )

    assert response.status_code == 422
    assert message in text(response)
    assert count(Referral) == before


def test_only_the_households_own_entity_can_refer_it(app, net):
    stranger = factories.user(role="entity_operator", organization=job_service_org())
    _db.session.commit()

    url = f"/referrals/new?household={net.household.id}"
    assert signed_in(app, stranger).get(url).status_code == 404
    assert signed_in(app, net.coordinator).get(url).status_code == 403


# The household page --------------------------------------------------------------------------


def test_household_page_offers_the_referral_and_lists_its_referrals(app, net):
    referral = make_referral(net.household, net.service, "approved")
    _db.session.commit()

    page = f"/households/{net.household.id}"
    section = f"/referrals/household/{net.household.id}"  # the page's referrals fragment
    sender, coordinator = signed_in(app, net.sender_user), signed_in(app, net.coordinator)
    own, city = text(sender.get(page)), text(coordinator.get(page))
    own_section, city_section = text(sender.get(section)), text(coordinator.get(section))

    assert f'href="/referrals/new?household={net.household.id}"' in own
    assert "Invia a un servizio" in own
    assert f'hx-get="{section}"' in own
    assert f'href="/referrals/{referral.id}"' in own_section
    assert "approvata, in attesa dell'ente" in own_section
    assert "Invia a un servizio" not in city
    assert f'href="/referrals/{referral.id}"' in city_section


def test_with_many_services_the_service_filter_becomes_a_name_search(app, net, monkeypatch):
    from app.referrals import views

    monkeypatch.setattr(views, "SERVICE_OPTIONS", 1)
    other = factories.service(net.receiver, name="Corso di italiano")
    make_referral(net.household, net.service, "approved")
    make_referral(net.household, other, "submitted", need="italian_language")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)

    page = browser.get("/referrals/").get_data(as_text=True)
    assert 'name="servizio_nome"' in page
    assert 'name="servizio"' not in page  # no list of thousands of services
    assert "1 segnalazione trovata" in text(browser.get("/referrals/?servizio_nome=ITALIANO"))
    assert "2 segnalazioni trovate" in text(
        browser.get("/referrals/?servizio_nome=" + net.receiver.name[:6])
    )
    assert "0 segnalazioni trovate" in text(browser.get("/referrals/?servizio_nome=nessuno"))


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("al=9999-12-31", "al", "Scegli una data tra il 2000 e il 2099."),
        ("dal=0001-01-01", "dal", "Scegli una data tra il 2000 e il 2099."),
        ("dal=ieri", "dal", "Scrivi una data valida, per esempio 31/01/2026."),
        ("dal=2026-03-10&al=2026-03-01", "al", "La data finale viene prima di quella iniziale"),
    ],
)
def test_a_filter_date_that_makes_no_sense_is_a_message_next_to_its_field(
    app, net, query, field, message
):
    make_referral(net.household, net.service, "approved")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)

    page = text(browser.get("/referrals/?" + query))
    fragment = text(browser.get("/referrals/?" + query, headers=HTMX))

    # The page: the field marked invalid, the message in its feedback, what was typed kept.
    feedback = re.search(rf'<div id="{field}-feedback"[^>]*>([^<]*)</div>', page)
    assert feedback
    assert message in feedback.group(1)
    assert re.search(rf'class="form-control is-invalid" id="{field}"', page)
    # The live filter: the message reaches the field out of band; the list is not emptied.
    assert re.search(
        rf'<div id="{field}-feedback"[^>]*hx-swap-oob="true"[^>]*>[^<]*{message}', fragment
    )
    assert len(re.findall(r'<tr id="referral-', fragment)) == 1


def test_the_queue_fetches_a_rows_reject_form_only_when_asked(app, net):
    """Each queue row carries a «Respingi…» link, not a whole form (#21); htmx fetches the
    form, whose refusal without a reason comes back in the row with the form open."""
    referral = make_referral(net.household, net.service, "submitted")
    coordinator = factories.user(role="coordinator")
    client = signed_in(app, coordinator)
    queue = client.get("/referrals/?status=submitted").get_data(as_text=True)
    assert f'hx-get="/referrals/{referral.id}/reject-form"' in queue
    assert f'id="reject-reason-{referral.id}"' not in queue

    fragment = client.get(f"/referrals/{referral.id}/reject-form", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in html
    assert f'id="reject-reason-{referral.id}"' in html
    assert 'name="csrf_token"' in html
    assert f'action="/referrals/{referral.id}/reject"' in html

    page = client.get(f"/referrals/{referral.id}/reject-form")
    assert page.status_code == 303
    assert page.headers["Location"].endswith(f"/referrals/{referral.id}")

    refused = client.post(
        f"/referrals/{referral.id}/reject",
        data={"row": "queue", "reason_code": "", "csrf_token": csrf_token_from(html)},
        headers={"HX-Request": "true"},
    )
    row = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="reject-reason-{referral.id}"' in row
    assert 'aria-invalid="true"' in row


def test_a_decided_referral_offers_no_reject_form(app, net):
    referral = make_referral(net.household, net.service, "approved")
    coordinator = factories.user(role="coordinator")
    client = signed_in(app, coordinator)
    answer = client.get(f"/referrals/{referral.id}/reject-form", headers={"HX-Request": "true"})
    assert answer.status_code == 409
    assert "non è più da decidere" in answer.get_data(as_text=True)
    assert 'name="reason_code"' not in answer.get_data(as_text=True)
