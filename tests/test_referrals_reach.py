"""Issue #26, items 4-7: reaching the person, honest matching, notifications that clear, Italian.

- 4: the member form records phone, e-mail, preferred channel and consent (checked, Italian
  messages); the receiving service sees them only after the City's approval, while the referral
  is open and with the consent; it always sees the sending case worker's contact; the
  coordinator's queue shows the operator's motivation beside the match reasons.
- 5: only services whose type fits the need are suggested; the others are found by name, under
  "Altri servizi" with why; every reason shows its points; services beyond the ten shown can be
  found by name.
- 6: a step done from the queue (in the row or in bulk) or from the page reads the notification
  that asked for it, for everybody it asked; a joint-care request notifies the City and the
  entity that has the household in charge.
- 7: refusals are whole sentences per step; the decline and reject forms are checked by the
  server (422, the message next to the field); the budget increases on the City's home are a link.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from app.extensions import db as _db
from app.households.models import JointCareRequest, Person
from app.notifications.models import Notification
from app.referrals.models import Referral
from tests import factories
from tests.test_referrals_views import HTMX, post, text
from tests.worlds import job_service_org, make_net, make_referral, signed_in


@pytest.fixture
def net(app, db):
    """The referral pages' world: a hub that refers, a job service that receives, the City."""
    return make_net()


PHONE = "+39 333 1234567"
EMAIL = "lucia.rossi@example.org"


def member_data(person: Person, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "codice_fiscale": person.codice_fiscale or "",
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "sex": person.sex or "",
        "relation": person.relation,
        "employment_status": "",
        "education": "",
        "languages": ["it"],
    }
    data.update(overrides)
    return data


def with_contacts(person: Person, consent: bool = True) -> None:
    person.phone, person.email = PHONE, EMAIL
    person.preferred_channel = "phone"
    person.contact_consent = consent


def unread(user, kind: str, object_id: int) -> int:
    return len(
        _db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.kind == kind,
                Notification.object_id == object_id,
                Notification.read_at.is_(None),
            )
        ).all()
    )


def told(user, kind: str, object_type: str, object_id: int) -> None:
    _db.session.add(
        Notification(user_id=user.id, kind=kind, object_type=object_type, object_id=object_id)
    )


# 4. Reaching the person ---------------------------------------------------------------------


def test_the_member_form_records_how_to_reach_the_person(app, net):
    person = net.household.members[0]
    browser = signed_in(app, net.sender_user)
    url = f"/households/{net.household.id}/members/{person.id}"
    assert "Come raggiungere la persona" in text(browser.get(url))

    response = post(
        browser,
        url,
        member_data(
            person,
            phone=PHONE,
            email=EMAIL,
            preferred_channel="sms",
            contact_consent="y",
        ),
    )

    assert response.status_code == 303
    _db.session.expire_all()
    saved = _db.session.get(Person, person.id)
    assert (saved.phone, saved.email, saved.preferred_channel) == (PHONE, EMAIL, "sms")
    assert saved.contact_consent is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "lucia.rossi@"}, "Indirizzo e-mail non valido"),
        ({"phone": "chiamare dopo le 18"}, "Il numero di telefono può contenere solo cifre"),
        ({"preferred_channel": "email"}, "Per il contatto via e-mail indica l'indirizzo."),
        ({"contact_consent": "y"}, "Indica almeno un telefono o un'e-mail"),
    ],
)
def test_wrong_contacts_are_refused_next_to_the_field_and_kept(app, net, overrides, message):
    person = net.household.members[0]
    browser = signed_in(app, net.sender_user)

    response = post(
        browser,
        f"/households/{net.household.id}/members/{person.id}",
        member_data(person, **overrides),
    )

    body = text(response)
    assert response.status_code == 422
    assert message in body
    assert 'class="invalid-feedback d-block" role="alert"' in body
    for value in overrides.values():
        if value != "y" and value != "email":
            assert f'value="{value}"' in body
    _db.session.expire_all()
    assert _db.session.get(Person, person.id).phone is None


def test_the_receiver_sees_the_contacts_after_approval_and_always_the_case_worker(app, net):
    with_contacts(net.household.members[0])
    approved = make_referral(
        net.household, net.service, "approved", created_by_id=net.sender_user.id
    )
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)

    page = text(receiver.get(f"/referrals/{approved.id}"))

    assert PHONE in page
    assert EMAIL in page
    assert "telefono" in page  # the preferred channel
    assert net.sender_user.full_name in page
    assert net.sender_user.email in page
    assert "Operatore che ha segnalato" in page


def test_without_consent_or_once_closed_the_receiver_gets_only_the_case_worker(app, net):
    with_contacts(net.household.members[0], consent=False)
    open_one = make_referral(
        net.household, net.service, "accepted", created_by_id=net.sender_user.id
    )
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)
    sender = signed_in(app, net.sender_user)

    without_consent = text(receiver.get(f"/referrals/{open_one.id}"))
    net.household.members[0].contact_consent = True
    closed = make_referral(
        net.household, net.service, "declined", need="training", created_by_id=net.sender_user.id
    )
    _db.session.commit()
    after_closing = text(receiver.get(f"/referrals/{closed.id}"))

    for page in (without_consent, after_closing):
        assert PHONE not in page
        assert EMAIL not in page
        assert net.sender_user.email in page
    assert "contatta l'operatore che la segue" in without_consent
    assert PHONE in text(sender.get(f"/referrals/{open_one.id}"))  # the sender always


def test_the_queue_shows_the_operators_motivation_beside_the_match_reasons(app, net):
    make_referral(
        net.household,
        net.service,
        motivation="Ha lavorato come magazziniere, cerca un contratto stabile.",
        match_reasons=[["same_district", {"circ": 3, "points": 25}]],
    )
    _db.session.commit()
    city = signed_in(app, net.coordinator)

    queue = text(city.get("/referrals/?status=submitted"))

    assert "Motivazione dell'operatore:" in queue
    assert "Ha lavorato come magazziniere, cerca un contratto stabile." in queue
    assert "stessa circoscrizione: +25 punti" in queue


# 5. Honest matching -------------------------------------------------------------------------


def test_only_services_that_fit_the_need_are_suggested_the_others_are_found_apart(app, net):
    italian = factories.service(
        net.receiver, name="Corso di italiano Porta Palazzo", service_type="italian_language"
    )
    _db.session.commit()
    browser = signed_in(app, net.sender_user)
    url = f"/referrals/new?household={net.household.id}&need=orientation"

    page = text(browser.get(url))
    searched = text(browser.get(url + "&cerca_servizio=porta+palazzo", headers=HTMX))

    assert "Orientamento al lavoro" in page
    assert "Corso di italiano Porta Palazzo" not in page
    assert "non risponde a questo bisogno" in page  # said, not ranked
    assert "servizio adatto al bisogno: Orientamento: +40 punti" in page
    assert "stessa circoscrizione: +25 punti" in page
    others = searched[searched.index("Altri servizi") :]
    assert "Corso di italiano Porta Palazzo" in others
    assert "il tipo di servizio «Corso di lingua italiana» non risponde al bisogno" in others
    assert f'value="{italian.id}"' in others


def test_a_service_beyond_the_ten_shown_is_found_by_name_and_can_be_chosen(app, net):
    for n in range(12):
        far = job_service_org(circoscrizione=6)
        factories.service(far, name=f"Sportello orientamento {n:02d}", service_type="orientation")
    _db.session.commit()
    browser = signed_in(app, net.sender_user)
    url = f"/referrals/new?household={net.household.id}&need=orientation"

    page = text(browser.get(url))
    hidden = [n for n in range(12) if f"Sportello orientamento {n:02d}" not in page]
    assert hidden  # only ten are suggested
    name = f"Sportello orientamento {hidden[-1]:02d}"
    found = text(browser.get(url + "&cerca_servizio=" + name.replace(" ", "+"), headers=HTMX))
    assert "Trovati cercando" in found
    assert name in found
    service_id = found.split(f"{name}")[0].rsplit('value="', 1)[1].split('"')[0]

    response = post(
        browser,
        f"/referrals/new?household={net.household.id}",
        {
            "person": str(net.household.members[0].id),
            "need": "orientation",
            "service": service_id,
            "motivation": "Chiede uno sportello vicino al nuovo lavoro del marito.",
            "action": "draft",
        },
    )
    assert response.status_code == 303
    assert _db.session.scalar(select(Referral.service_id)) == int(service_id)


# 6. Notifications that clear ----------------------------------------------------------------


def test_approving_from_the_queue_reads_the_notification_of_every_coordinator(app, net):
    colleague = factories.user(role="coordinator")
    referral = make_referral(net.household, net.service)
    for user in (net.coordinator, colleague):
        told(user, "referral_submitted", "referral", referral.id)
    _db.session.commit()
    city = signed_in(app, net.coordinator)

    response = post(city, f"/referrals/{referral.id}/approve", {"row": "queue"}, headers=HTMX)

    assert response.status_code == 200
    assert unread(net.coordinator, "referral_submitted", referral.id) == 0
    assert unread(colleague, "referral_submitted", referral.id) == 0
    assert unread(net.receiver_user, "referral_approved", referral.id) == 1


def test_bulk_approval_and_the_receivers_answer_read_what_asked_for_them(app, net):
    first = make_referral(net.household, net.service)
    second = make_referral(net.household, net.service, need="training")
    for referral in (first, second):
        told(net.coordinator, "referral_submitted", "referral", referral.id)
    _db.session.commit()
    city = signed_in(app, net.coordinator)

    post(city, "/referrals/bulk-approve", {"ids": [str(first.id), str(second.id)]})

    assert unread(net.coordinator, "referral_submitted", first.id) == 0
    assert unread(net.coordinator, "referral_submitted", second.id) == 0
    colleague = factories.user(role="entity_operator", organization=net.receiver)
    told(colleague, "referral_approved", "referral", first.id)
    _db.session.commit()
    assert unread(net.receiver_user, "referral_approved", first.id) == 1
    receiver = signed_in(app, net.receiver_user)
    post(receiver, f"/referrals/{first.id}/accept", {}, headers=HTMX)
    assert unread(net.receiver_user, "referral_approved", first.id) == 0
    assert unread(colleague, "referral_approved", first.id) == 0


def test_a_joint_care_request_tells_the_city_and_the_entity_in_charge(app, net):
    helper_org = factories.organization(name="Banco Aurora", is_hub=True)
    helper_user = factories.user(role="entity_operator", organization=helper_org)
    _db.session.commit()
    helper = signed_in(app, helper_user)
    reference = net.household.reference_person

    asked = post(
        helper,
        "/households/joint-care",
        {"codice_fiscale": reference.codice_fiscale, "message": ""},
    )

    assert asked.status_code == 303
    assert unread(net.sender_user, "joint_care_requested_owner", net.household.id) == 1
    assert unread(net.coordinator, "joint_care_requested", net.household.id) == 1
    owner = signed_in(app, net.sender_user)
    listed = text(owner.get("/notifications/"))
    assert "Banco Aurora ha chiesto alla Città di seguire con voi il nucleo" in listed
    request = _db.session.scalar(select(JointCareRequest))
    city = signed_in(app, net.coordinator)
    post(city, f"/households/joint-care/{request.id}/decline", {})
    assert unread(net.coordinator, "joint_care_requested", net.household.id) == 0


# 7. Italian ---------------------------------------------------------------------------------


def test_no_message_pastes_a_verb_into_a_sentence():
    """ "ora non si può %(action)s" read "ora non si può accetta": every step has its sentences."""
    with open("app/translations/messages.pot", "rb") as catalog:
        ids = [str(m.id) for m in read_po(catalog) if m.id]
    assert not [msgid for msgid in ids if "%(action)s" in msgid]


@pytest.mark.parametrize(
    ("who", "status", "action", "message"),
    [
        ("coordinator", "approved", "accept", "Non spetta a te accettare questa segnalazione."),
        ("sender_user", "approved", "decline", "Non spetta a te rifiutare questa segnalazione."),
        ("receiver_user", "in_progress", "accept", "ora non si può accettare."),
        ("receiver_user", "approved", "start", "ora non si può avviare il percorso."),
    ],
)
def test_refusals_read_as_whole_italian_sentences(app, net, who, status, action, message):
    referral = make_referral(net.household, net.service, status)
    _db.session.commit()
    response = post(
        signed_in(app, getattr(net, who)), f"/referrals/{referral.id}/{action}", {}, HTMX
    )
    assert message in text(response)


def test_a_decline_without_a_reason_is_refused_next_to_the_field_by_the_server(app, net):
    referral = make_referral(net.household, net.service, "approved")
    _db.session.commit()
    receiver = signed_in(app, net.receiver_user)
    page = text(receiver.get(f"/referrals/{referral.id}"))
    at = page.index(f'action="/referrals/{referral.id}/decline"')
    form = page[page.rindex("<form", 0, at) :]
    form = form[: form.index("</form>")]
    assert "novalidate" in form
    assert " required" not in form

    response = post(
        receiver,
        f"/referrals/{referral.id}/decline",
        {"reason_code": "", "note": "Ho provato due volte"},
    )

    body = text(response)
    assert response.status_code == 422
    assert 'id="decline-reason-error"' in body
    assert "Indica il motivo." in body
    assert "Ho provato due volte" in body  # kept
    assert '<details class="referral-action" open>' in body
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "approved"


def test_the_budget_increases_on_the_citys_home_are_a_link_to_them(app, net):
    from app.projects.models import BudgetLine, Project

    waiting = Project(
        household_id=net.household.id,
        organization_id=net.sender.id,
        title="Progetto con aumento",
        status="approved",
        youth=False,
        starts_on=date(2026, 1, 1),
    )
    calm = Project(
        household_id=net.household.id,
        organization_id=net.sender.id,
        title="Progetto tranquillo",
        status="approved",
        youth=False,
        starts_on=date(2026, 1, 1),
    )
    _db.session.add_all([waiting, calm])
    _db.session.flush()
    _db.session.add(
        BudgetLine(
            project_id=waiting.id,
            category="training",
            description="Corso",
            planned=Decimal("100"),
            approved=Decimal("100"),
            increase_requested=Decimal("150"),
        )
    )
    _db.session.commit()
    city = signed_in(app, net.coordinator)

    home = text(city.get("/"))
    assert '<a href="/projects/?aumenti=1">Aumenti di budget da decidere</a>' in home
    listed = text(city.get("/projects/?aumenti=1"))
    assert "Progetto con aumento" in listed
    assert "Progetto tranquillo" not in listed
