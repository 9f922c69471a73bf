"""The household card: issued by a hub, printed as an A6 PDF carrying only a token in its QR
code, scanned at the counter; lost cards revoked and reissued; every step audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent, AuditEventHousehold
from app.auth.models import User
from app.cards import operations
from app.cards.models import HouseholdCard
from app.cards.pdf import qr_matrix
from app.clock import today
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
REVOKED = "Tessera revocata il {date}: chiedi il documento e ristampa la tessera."
UNKNOWN = "Tessera non riconosciuta"


def hub(name: str):
    org = factories.organization(is_hub=True, name=name)
    site = factories.site(org, is_hub=True, name=f"Snodo {name}")
    return org, site


def post(client, path, data=None, headers=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers or {})


def cards(household):
    return _db.session.scalars(
        select(HouseholdCard).where(HouseholdCard.household_id == household.id)
        .order_by(HouseholdCard.id)
    ).all()  # fmt: skip


def switch_to(client, login_as, role, org=None):
    assert post(client, "/logout").status_code == 303
    return login_as(role, org=org)


def events(action):
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def names_household(event, household) -> bool:
    return (
        _db.session.scalar(
            select(AuditEventHousehold.household_id).where(
                AuditEventHousehold.audit_event_id == event.id
            )
        )
        == household.id
    )


@pytest.fixture
def desk(login_as, db):
    """An operator of a hub, logged in, with a household of their organization in charge."""
    org, site = hub("Banco Alimentare Aurora")
    household = factories.household(org, members=2)
    reference = household.reference_person
    reference.last_name, reference.first_name = "Esposito", "Carmela"
    user = login_as("entity_operator", org=org)
    _db.session.commit()
    return {"org": org, "site": site, "household": household, "user": user}


def issued(desk) -> tuple[HouseholdCard, str]:
    card = operations.issue_card(desk["household"], desk["site"], desk["user"])
    _db.session.commit()
    return card, operations.card_token(card)


# Issue, revoke, reissue -----------------------------------------------------------------------


def test_hub_operator_issues_a_card_from_the_household_page(client, desk):
    household = desk["household"]
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "Il nucleo non ha una tessera attiva." in page
    response = post(client, f"/households/{household.id}/card", {"site_id": desk["site"].id})
    assert response.status_code == 303
    (card,) = cards(household)
    assert card.active
    assert card.site_id == desk["site"].id
    assert card.organization_id == desk["org"].id
    assert card.issued_by_id == desk["user"].id
    # Only a hash and a sealed copy are stored: the token itself is nowhere in the row.
    token = operations.card_token(card)
    assert re.fullmatch(r"[A-Z2-7]{32}", token)
    assert card.token_hash == operations.token_hash(token)
    assert token not in card.token_sealed
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert f"Tessera n. {card.number} attiva" in page
    assert "Scarica la tessera da stampare (PDF)" in page
    (event,) = events("household_card_issued")
    assert event.object_id == card.id
    assert event.actor_id == desk["user"].id
    assert names_household(event, household)


def test_a_second_card_is_refused_while_one_is_active(client, desk):
    household = desk["household"]
    issued(desk)
    response = post(client, f"/households/{household.id}/card", {"site_id": desk["site"].id})
    assert response.status_code == 303
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "Il nucleo ha già una tessera attiva" in page
    assert len(cards(household)) == 1
    with pytest.raises(Exception, match="già una tessera attiva"):
        operations.issue_card(household, desk["site"], desk["user"])


def test_the_database_keeps_one_active_card_per_household(desk):
    card, _token = issued(desk)
    _db.session.add(
        HouseholdCard(
            household_id=card.household_id,
            organization_id=card.organization_id,
            site_id=card.site_id,
            token_hash="0" * 64,
            token_sealed="x",
        )
    )
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_a_lost_card_is_revoked_and_reissued_in_one_step(client, desk):
    household = desk["household"]
    old, old_token = issued(desk)
    page = client.get(f"/households/{household.id}/card/revoke")
    assert page.status_code == 200
    response = post(
        client,
        f"/households/{household.id}/card/revoke",
        {"reason": "lost", "site_id": desk["site"].id, "action": "reissue"},
    )
    assert response.status_code == 303
    first, second = cards(household)
    assert first.id == old.id
    assert not first.active
    assert first.revoke_reason == "lost"
    assert first.revoked_by_id == desk["user"].id
    assert second.active
    assert operations.card_token(second) != old_token
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert f"Tessera n. {second.number} attiva" in page
    assert f"revocata il {today():%d/%m/%Y} (smarrita)" in page
    (revoked,) = events("household_card_revoked")
    assert revoked.object_id == old.id
    assert revoked.changes["reason"] == "lost"
    assert names_household(revoked, household)
    (reissued,) = events("household_card_reissued")
    assert reissued.object_id == second.id


def test_revoking_needs_a_reason_and_a_note_for_other(client, desk):
    household = desk["household"]
    issued(desk)
    path = f"/households/{household.id}/card/revoke"
    response = post(client, path, {"reason": "", "action": "revoke"})
    assert response.status_code == 422
    assert "Scegli il motivo della revoca." in response.get_data(as_text=True)
    response = post(client, path, {"reason": "other", "note": " ", "action": "revoke"})
    assert response.status_code == 422
    assert "Scrivi il motivo della revoca." in response.get_data(as_text=True)
    assert cards(household)[0].active
    response = post(client, path, {"reason": "stolen", "action": "revoke"})
    assert response.status_code == 303
    (card,) = cards(household)
    assert not card.active
    assert card.revoke_reason == "stolen"
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "Il nucleo non ha una tessera attiva." in page
    assert "(rubata)" in page


def test_another_organization_gets_404_on_every_card_route(client, login_as, db):
    org, site = hub("Parrocchia San Gioacchino")
    household = factories.household(org)
    operator = factories.user(role="entity_operator", organization=org)
    _db.session.flush()
    operations.issue_card(household, site, operator)
    _db.session.commit()
    other, other_site = hub("Circolo Barriera")
    login_as("entity_operator", org=other)
    assert client.get(f"/households/{household.id}/card.pdf").status_code == 404
    assert client.get(f"/households/{household.id}/card/revoke").status_code == 404
    response = post(client, f"/households/{household.id}/card", {"site_id": other_site.id})
    assert response.status_code == 404


def test_the_city_reads_the_household_but_not_its_card(client, desk, login_as):
    issued(desk)
    switch_to(client, login_as, "coordinator")
    page = client.get(f"/households/{desk['household'].id}").get_data(as_text=True)
    assert "Esposito" in page
    assert 'id="card-title"' not in page


# The PDF ------------------------------------------------------------------------------------


def _drawn_matrix(pdf: bytes) -> list[list[bool]]:
    """The QR code as drawn: one `x y w h re f` per dark module, rebuilt as a matrix."""
    squares = [
        tuple(float(v) for v in found)
        for found in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) [\d.]+ re f", pdf)
    ]
    size = squares[0][2]
    left = min(s[0] for s in squares)
    top = max(s[1] for s in squares) + size
    dimension = round((max(s[0] for s in squares) + size - left) / size)
    matrix = [[False] * dimension for _ in range(dimension)]
    for x, y, _w in squares:
        matrix[round((top - y) / size) - 1][round((x - left) / size)] = True
    return matrix


def test_the_printable_card_is_an_a6_pdf_with_only_the_token(client, desk):
    household = desk["household"]
    card, token = issued(desk)
    response = client.get(f"/households/{household.id}/card.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    assert b"/MediaBox [0 0 297.64 419.53]" in body  # 105 x 148 mm
    assert desk["site"].name.encode("cp1252") in body
    assert "Reti di comunità per l'inclusione".encode("cp1252") in body
    assert card.number.encode() in body
    assert today().strftime("%d/%m/%Y").encode() in body
    for member in household.members:
        assert member.last_name.encode() not in body
        assert member.first_name.encode() not in body
        assert member.codice_fiscale.encode() not in body
    assert token.encode() not in body  # only in the QR code's squares
    assert _drawn_matrix(body) == qr_matrix(token)
    (event,) = events("household_card_downloaded")
    assert event.object_id == card.id
    assert names_household(event, household)


def test_there_is_no_pdf_without_an_active_card(client, desk):
    assert client.get(f"/households/{desk['household'].id}/card.pdf").status_code == 404


# Scanning at the counter ----------------------------------------------------------------------


def test_a_scanned_card_opens_the_households_counter_form(client, desk):
    _card, token = issued(desk)
    response = post(client, "/distributions/scan", {"token": token.lower()}, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="distribution-form"' in html
    assert "Esposito Carmela" in html
    assert f'name="household_id" type="hidden" value="{desk["household"].id}"' in html
    (event,) = events("household_card_scanned")
    assert names_household(event, desk["household"])


def test_without_htmx_the_scan_answers_the_whole_counter_page(client, desk):
    _card, token = issued(desk)
    response = post(client, "/distributions/scan", {"token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert "Scansiona la tessera" in html
    assert "Esposito Carmela" in html


def test_a_revoked_card_says_when_it_was_revoked(client, desk):
    household = desk["household"]
    _card, token = issued(desk)
    operations.revoke_card(household, "lost", None, desk["user"])
    _db.session.commit()
    response = post(client, "/distributions/scan", {"token": token}, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert REVOKED.format(date=today().strftime("%d/%m/%Y")) in html
    assert "Esposito" not in html
    assert events("household_card_scanned") == []


def _answer(client, token):
    response = post(client, "/distributions/scan", {"token": token}, headers=HTMX)
    html = response.get_data(as_text=True)
    alert = re.search(r'id="card-scan-error">([^<]*)<', html)
    return response.status_code, alert.group(1) if alert else None, html


def test_another_hubs_operator_gets_the_answer_of_an_unknown_token(client, desk, login_as):
    household = desk["household"]
    _card, token = issued(desk)
    other, _site = hub("Circolo Barriera")
    _db.session.commit()
    switch_to(client, login_as, "entity_operator", other)
    unknown = _answer(client, operations.new_token())
    foreign = _answer(client, token)
    assert foreign[:2] == unknown[:2]
    assert unknown[0] == 422
    assert UNKNOWN in unknown[1]
    assert "Esposito" not in foreign[2]
    # A revoked card of a household out of scope: still nothing to tell it exists.
    operations.revoke_card(household, "damaged", None, desk["user"])
    _db.session.commit()
    assert _answer(client, token)[:2] == unknown[:2]
    assert _answer(client, "not a token")[:2] == unknown[:2]
    assert events("household_card_scanned") == []


def test_the_city_cannot_scan_it_does_not_record(client, desk, login_as):
    _card, token = issued(desk)
    switch_to(client, login_as, "coordinator")
    assert post(client, "/distributions/scan", {"token": token}).status_code == 403


def test_the_counter_page_has_the_scan_box_and_may_use_the_camera(client, desk):
    response = client.get("/distributions/")
    html = response.get_data(as_text=True)
    assert "Scansiona la tessera" in html
    assert 'accept="image/*" capture="environment"' in html
    assert "vendor/jsqr/jsQR.js" in html
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/account").headers["Permissions-Policy"]


# Demo data ------------------------------------------------------------------------------------


def test_demo_hub_households_hold_cards_one_revoked_and_reissued(app, db):
    from app.cli import seed_demo_command
    from app.households.models import Household

    result = app.test_cli_runner().invoke(seed_demo_command, [])
    assert result.exit_code == 0, result.output
    all_cards = _db.session.scalars(select(HouseholdCard).order_by(HouseholdCard.id)).all()
    assert len(all_cards) == 5
    ente1 = _db.session.scalar(select(User).where(User.username == "ente1"))
    assert {c.organization_id for c in all_cards} == {ente1.organization_id}
    assert {c.household.organization_id for c in all_cards} == {ente1.organization_id}
    revoked = [c for c in all_cards if not c.active]
    assert len(revoked) == 1
    assert revoked[0].revoke_reason == "lost"
    assert revoked[0].revoked_at > revoked[0].issued_at
    (reissued,) = [c for c in all_cards if c.active and c.household_id == revoked[0].household_id]
    assert operations.card_token(reissued) != operations.card_token(revoked[0])
    assert len({c.household_id for c in all_cards if c.active}) == 4
    assert all(_db.session.get(Household, c.household_id).status == "active" for c in all_cards)


def test_a_double_click_on_issue_makes_one_card_and_no_error(client, desk):
    household = desk["household"]
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"site_id": desk["site"].id, "idempotency_key": key}
    assert post(client, f"/households/{household.id}/card", form).status_code == 303
    assert post(client, f"/households/{household.id}/card", form).status_code == 303
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "già una tessera attiva" not in page
    assert len(cards(household)) == 1
