"""The referral loop in a real browser, on the demo data (issue 5, "Done when").

ente1 sends a young member of one of its households to a service of ente2's organization, chosen
from the ranked suggestions; the coordinator approves it from the queue (and, on other queued
referrals, tries a reject without a reason and a bulk approval); ente2 accepts, starts and closes
it with an outcome; ente1 sees the outcome and the whole timeline. Every step is notified and
audited. axe checks every page (a screenshot when it finds a violation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.extensions import db
from app.households.consents import consent_in_force
from app.households.models import Household, Person
from app.notifications.models import Notification
from app.referrals import queries
from app.referrals.matching import rank
from app.referrals.models import Referral
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

STEPS = [
    ("referral_created", "ente1"),
    ("referral_submitted", "ente1"),
    ("referral_approved", "coordinatore"),
    ("referral_accepted", "ente2"),
    ("referral_in_progress", "ente2"),
    ("referral_completed", "ente2"),
]
TIMELINE = [
    "creata come «bozza»",
    "da «bozza» a «in attesa di approvazione»",
    "da «in attesa di approvazione» a «approvata, in attesa dell'ente»",
    "da «approvata, in attesa dell'ente» a «accettata dall'ente»",
    "da «accettata dall'ente» a «in corso»",
    "da «in corso» a «conclusa con esito positivo»",
]
OUTCOME_NOTE = "Assunto come magazziniere, tempo determinato."
MOTIVATION = "Cerca lavoro da un anno: ha la licenza media e parla inglese e italiano."


@dataclass(frozen=True)
class Young:
    """The demo's young member of ente1's households kept free for this journey."""

    person_id: int
    name: str
    codice_fiscale: str
    household_id: int
    household_name: str
    ente2_organization: str


@contextmanager
def reading(app: Flask) -> Iterator[None]:
    """Read the live server's database from the test: a fresh session, closed at once (no
    transaction left open while the server writes)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def _young(ente1: User, ente2: User) -> Young:
    """The demo promises one young member of ente1's households, with the sharing authorisation
    and no referral, for whom a service of ente2's organization is suggested for job_search."""
    day = today()
    offers = queries.offers(day)
    people = db.session.scalars(
        select(Person)
        .join(Household, Household.id == Person.household_id)
        .where(Household.organization_id == ente1.organization_id)
        .where(~Person.id.in_(select(Referral.person_id).where(Referral.person_id.is_not(None))))
        .order_by(Person.id)
    )
    for person in people:
        household = person.household
        if not (person.is_youth(day) and consent_in_force(household, "job_services", None)):
            continue
        ranked = rank(queries.subject_for(household, person, day), "job_search", offers)
        if any(s.offer.organization_id == ente2.organization_id for s in ranked):
            return Young(
                person.id,
                person.full_name,
                person.codice_fiscale or "",
                household.id,
                household.display_name,
                ente2.organization.name,
            )
    raise AssertionError("the demo data has no young member of ente1 free for the journey")


def _user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _unread(username: str) -> int:
    user = _user(username)
    return len(
        db.session.scalars(
            select(Notification.id).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        ).all()
    )


def unread_badge(page: Page) -> int:
    """The number on the header's unread badge (0 when there is no badge)."""
    badge = page.locator("#unread-badge")
    if badge.count() == 0:
        return 0
    match = re.match(r"\s*(\d+)", badge.inner_text())
    assert match, badge.inner_text()
    return int(match.group(1))


def logout(page: Page) -> None:
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/login.*"))


def flash(page: Page, text: str) -> None:
    expect(page.locator("#messages")).to_contain_text(text)


def test_referral_from_suggestion_to_outcome(page: Page, app: Flask) -> None:
    with reading(app):
        young = _young(_user("ente1"), _user("ente2"))
        coordinator_unread = _unread("coordinatore")

    referral_id = _ente1_sends(page, young)
    _coordinator_approves(page, referral_id, coordinator_unread)
    _ente2_closes(page, referral_id, young)
    _ente1_sees_the_outcome(page, referral_id)
    with reading(app):
        _everything_audited_and_notified(referral_id)


# 1. ente1 chooses a service from the suggestions and sends the referral to the City -----------


def _ente1_sends(page: Page, young: Young) -> int:
    login(page, "ente1")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Nuclei familiari"
    ).click()
    page.wait_for_url("**/households/")
    page.get_by_label("Cerca per nome, cognome o codice fiscale").fill(young.name.split()[-1])
    page.get_by_role("link", name=young.household_name).click()
    page.wait_for_url(f"**/households/{young.household_id}")
    members = page.get_by_role("table", name="Componenti del nucleo familiare")
    expect(members.get_by_role("row", name=re.compile(young.name))).to_contain_text("giovane 18-29")

    page.get_by_role("link", name="Invia a un servizio").click()
    page.wait_for_url(re.compile(rf".*/referrals/new\?household={young.household_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Invia il nucleo {young.household_name} a un servizio"
    )
    expect(page.locator("#suggestions")).to_contain_text("Scegli il bisogno")
    assert_accessible(page, "referral-new-empty")

    person = page.get_by_label("Persona da inviare al servizio")
    expect(person.locator(f"option[value='{young.person_id}']")).to_have_text(
        re.compile(rf"^{young.name}, \d+ anni \(giovane 18-29\)$")
    )
    person.select_option(str(young.person_id))
    page.get_by_label("Bisogno").select_option("job_search")
    suggestions = page.locator("#suggestions ol.suggestions > li")
    expect(suggestions.first).to_be_visible()
    texts = page.locator("#suggestions").inner_text()
    assert "punteggio" in texts
    assert "posti disponibili: " in texts
    # Services with a place this month by score; those with none after them, with their
    # waiting list (issue #24).
    items = suggestions.all_inner_texts()
    full = ["nessun posto questo mese" in item for item in items]
    assert full == sorted(full), f"un servizio pieno prima di uno con posti: {items}"
    scores = [int(re.search(r"punteggio (\d+)", item).group(1)) for item in items]
    with_places = [n for n, is_full in zip(scores, full, strict=True) if not is_full]
    assert with_places == sorted(with_places, reverse=True), f"non in ordine: {scores}"
    assert_accessible(page, "referral-new-suggestions")

    ente2_choice = suggestions.filter(has_text=young.ente2_organization).first
    expect(ente2_choice).to_be_visible()
    reasons = ente2_choice.locator("ul").inner_text()
    assert "posti disponibili: " in reasons
    ente2_choice.locator("label").click()
    assert ente2_choice.get_by_role("radio").is_checked()
    service_label = ente2_choice.locator("label").inner_text().split("·")[0].strip()

    # Sending without a motivation: the message sits next to the field, the choices are kept.
    page.get_by_role("button", name="Invia alla Città per l’approvazione").click()
    expect(page.locator("#motivation-error")).to_have_text(
        "Scrivi la motivazione della segnalazione."
    )
    assert (
        page.locator("#suggestions ol.suggestions > li")
        .filter(has_text=young.ente2_organization)
        .first.get_by_role("radio")
        .is_checked()
    )
    assert_accessible(page, "referral-new-missing-motivation")

    page.get_by_label("Motivazione").fill(MOTIVATION)
    page.get_by_role("button", name="Invia alla Città per l’approvazione").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    referral_id = int(page.url.rsplit("/", 1)[1])
    flash(page, "Segnalazione inviata alla Città per l'approvazione.")
    main = page.locator("main")
    expect(main.locator("p .badge").first).to_have_text("in attesa di approvazione")
    expect(main).to_contain_text(young.name)
    expect(main).to_contain_text(service_label)
    expect(main).to_contain_text(MOTIVATION)
    expect(page.locator(".referral-timeline li")).to_have_count(2)
    assert_accessible(page, "referral-detail-submitted")
    logout(page)
    return referral_id


# 2. The coordinator: badge, home, queue; approve in place; reject without reason; bulk ------


def _coordinator_approves(page: Page, referral_id: int, unread_before: int) -> None:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    assert unread_badge(page) == unread_before + 1
    queue_home = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Segnalazioni da approvare"))
    )
    waiting = int(queue_home.locator("h2 .badge").first.inner_text())
    expect(queue_home.locator("li").first).to_be_visible()  # the oldest ones first
    assert_accessible(page, "referral-home-coordinator")

    page.locator("#unread-badge").click()
    page.wait_for_url("**/notifications/")
    expect(
        page.get_by_role("link", name=f"Nuova segnalazione n. {referral_id} da approvare")
    ).to_be_visible()
    assert_accessible(page, "referral-notifications-coordinator")

    page.goto("/")
    queue_home.get_by_role("link", name="Apri la coda delle segnalazioni da approvare").click()
    page.wait_for_url(re.compile(r".*/referrals/\?status=submitted$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Segnalazioni da approvare")
    expect(page.locator("#referral-results")).to_contain_text(f"{waiting} segnalazioni trovate")
    expect(page.locator("tr.referral-overdue").first).to_contain_text("in ritardo")
    row = page.locator(f"#referral-{referral_id}")
    expect(row).to_contain_text("in attesa di approvazione")
    expect(row).to_contain_text("punteggio")
    expect(row).to_contain_text("posti disponibili: ")
    assert_accessible(page, "referral-queue")

    # ente1 chose ente2's service, not the first suggestion: no one-click approval (#24).
    expect(row).to_contain_text("posto tra i suggerimenti")
    expect(row.get_by_role("button", name=re.compile("^Approva"))).to_have_count(0)

    # Approve in place one that went to its first suggestion: only the row changes.
    first = page.locator(
        "tr.referral-row", has=page.get_by_role("button", name=re.compile("^Approva la seg"))
    ).first
    first_id = int((first.get_attribute("id") or "").removeprefix("referral-"))
    first = page.locator(f"#referral-{first_id}")
    page.evaluate("window.__sameDocument = true")
    first.get_by_role("button", name=f"Approva la segnalazione n. {first_id}").click()
    expect(first.locator(".badge").first).to_have_text("approvata, in attesa dell'ente")
    expect(first.get_by_role("button", name=re.compile("^Approva"))).to_have_count(0)
    expect(first.get_by_role("link", name=f"n. {first_id}")).to_be_focused()  # focus not lost
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "referral-queue-approved-in-place")

    # Reject without a reason: the Italian message next to the reason, nothing changed.
    # The row's form is fetched when asked for, and the reason then has the focus.
    other = page.locator("tr.referral-row", has=page.locator("a.referral-reject")).first
    other_id = int((other.get_attribute("id") or "").removeprefix("referral-"))
    other.get_by_role("link", name=f"Respingi… la segnalazione n. {other_id}").click()
    other = page.locator(f"#referral-{other_id}")
    expect(
        other.get_by_label(f"Motivo del respingimento della segnalazione n. {other_id}")
    ).to_be_focused()
    assert_accessible(page, "referral-queue-reject-form-fetched")
    other.get_by_role("button", name=f"Respingi la segnalazione n. {other_id}").click()
    other = page.locator(f"#referral-{other_id}")
    expect(other.get_by_role("alert")).to_have_text("Indica il motivo.")
    reason = other.get_by_label(f"Motivo del respingimento della segnalazione n. {other_id}")
    expect(reason).to_be_focused()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(other.locator(".badge").first).to_have_text("in attesa di approvazione")
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "referral-queue-reject-without-reason")
    page.reload()
    expect(page.locator(f"#referral-{other_id} .badge").first).to_have_text(
        "in attesa di approvazione"
    )

    # Bulk approve two selected rows.
    pending = page.locator("tr.referral-row", has=page.locator("input[name=ids]"))
    chosen = [
        int((pending.nth(i).get_attribute("id") or "").removeprefix("referral-")) for i in range(2)
    ]
    for chosen_id in chosen:
        page.get_by_label(f"Seleziona la segnalazione n. {chosen_id}").check()
    page.get_by_role("button", name="Approva le selezionate").click()
    flash(page, "2 segnalazioni approvate.")
    for chosen_id in chosen:
        expect(page.locator(f"#referral-{chosen_id}")).to_have_count(0)
    assert_accessible(page, "referral-queue-bulk-approved")

    # The journey's referral: approved on its page, with the reason for the choice.
    page.goto(f"/referrals/{referral_id}")
    page.locator("summary", has_text="Approva…").click()
    page.get_by_label(re.compile("Perché approvi")).fill("Servizio raggiungibile da casa.")
    with page.expect_navigation():
        page.locator("details.referral-action form").get_by_role("button", name="Approva").click()
    expect(page.locator("main p .badge").first).to_have_text("approvata, in attesa dell'ente")
    expect(page.locator(".referral-timeline")).to_contain_text("Servizio raggiungibile da casa.")
    logout(page)


# 3. ente2: badge, the minimal view, accept, start, close with an outcome ----------------------


def _ente2_closes(page: Page, referral_id: int, young: Young) -> None:
    login(page, "ente2")
    page.wait_for_url("**/")
    before = unread_badge(page)
    assert before >= 1
    incoming = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Segnalazioni in arrivo"))
    )
    link = incoming.get_by_role("link", name=re.compile(rf"^N\. {referral_id} "))
    expect(link).to_be_visible()
    assert_accessible(page, "referral-home-ente2")
    link.click()
    page.wait_for_url(f"**/referrals/{referral_id}")
    assert unread_badge(page) == before - 1
    main = page.locator("main")
    expect(main).to_contain_text(young.name)
    expect(main).to_contain_text(MOTIVATION)
    assert young.codice_fiscale, "the demo person has a codice fiscale to hide"
    assert young.codice_fiscale not in page.content()
    assert young.household_name not in main.inner_text()
    assert_accessible(page, "referral-detail-receiver")

    page.get_by_role("button", name="Accetta").click()
    flash(page, "Segnalazione accettata.")
    expect(main.locator("p .badge").first).to_have_text("accettata dall'ente")
    assert_accessible(page, "referral-detail-accepted")

    page.get_by_role("button", name="Avvia il percorso").click()
    flash(page, "Percorso avviato.")
    expect(main.locator("p .badge").first).to_have_text("in corso")
    assert_accessible(page, "referral-detail-in-progress")

    page.locator("summary", has_text="Chiudi con esito positivo").click()
    closing = page.locator("details[open] form")
    closing.get_by_label("Esito").select_option(label="contratto di lavoro")
    closing.get_by_label("Nota", exact=True).fill(OUTCOME_NOTE)
    assert_accessible(page, "referral-detail-closing")
    closing.get_by_role("button", name="Chiudi con esito positivo").click()
    flash(page, "Segnalazione chiusa con esito positivo.")
    expect(main.locator("p .badge").first).to_have_text("conclusa con esito positivo")
    assert_accessible(page, "referral-detail-completed-receiver")
    logout(page)


# 4. ente1 sees the outcome and the whole timeline --------------------------------------------


def _ente1_sees_the_outcome(page: Page, referral_id: int) -> None:
    login(page, "ente1")
    page.wait_for_url("**/")
    assert unread_badge(page) >= 2
    page.locator("#unread-badge").click()
    page.wait_for_url("**/notifications/")
    outcome = page.get_by_role(
        "link", name=f"La segnalazione n. {referral_id} si è conclusa con esito positivo"
    )
    expect(outcome).to_be_visible()
    expect(
        page.get_by_role(
            "link", name=f"La segnalazione n. {referral_id} è stata accettata dal servizio"
        )
    ).to_be_visible()
    assert_accessible(page, "referral-notifications-ente1")
    outcome.click()
    page.wait_for_url(f"**/referrals/{referral_id}")
    main = page.locator("main")
    expect(main.locator("p .badge").first).to_have_text("conclusa con esito positivo")
    expect(main.get_by_role("status").filter(has_text="Esito")).to_contain_text(
        "contratto di lavoro"
    )
    steps = page.locator(".referral-timeline li")
    expect(steps).to_have_count(len(TIMELINE))
    for step, text in zip(steps.all(), TIMELINE, strict=True):
        expect(step).to_contain_text(text)
    expect(steps.nth(2)).to_contain_text("Chiara Coordinatrice (Città di Torino)")
    expect(steps.last).to_contain_text("Esito: contratto di lavoro")
    expect(steps.last).to_contain_text(f"Nota: {OUTCOME_NOTE}")
    assert_accessible(page, "referral-detail-outcome-sender")

    # The sender's list: the referral among its others, with its outcome.
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Segnalazioni"
    ).click()
    page.wait_for_url("**/referrals/")
    row = page.locator(f"#referral-{referral_id}")
    expect(row.locator(".badge").first).to_have_text("conclusa con esito positivo")
    assert_accessible(page, "referral-list-sender")


# 5. The audit log and the notifications -----------------------------------------------------


def _everything_audited_and_notified(referral_id: int) -> None:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "referral", AuditEvent.object_id == referral_id)
        .where(AuditEvent.action != "referral_viewed")
        .order_by(AuditEvent.id)
    ).all()
    users = {u.id: u.username for u in db.session.scalars(select(User))}
    assert [(e.action, users.get(e.actor_id or 0)) for e in events] == STEPS
    viewers = {
        users.get(e.actor_id or 0)
        for e in db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "referral",
                AuditEvent.object_id == referral_id,
                AuditEvent.action == "referral_viewed",
            )
        )
    }
    assert {"ente1", "ente2"} <= viewers
    notified = {
        (n.kind, users[n.user_id])
        for n in db.session.scalars(
            select(Notification).where(
                Notification.object_type == "referral", Notification.object_id == referral_id
            )
        )
    }
    assert {
        ("referral_submitted", "coordinatore"),
        ("referral_approved", "ente2"),
        ("referral_accepted", "ente1"),
        ("referral_completed", "ente1"),
    } <= notified
