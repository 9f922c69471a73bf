"""An individualised project in a real browser, on the demo data (issue 7, "Done when").

ente1 drafts a project for a young member (18-29) of one of its households, adds three budget
lines (one amount typed the Italian way, one first typed wrong) and a goal, and sends it to the
City; the coordinator approves it and its budget; ente1 records commitments and payments in the
rows of the budget table (one of them with the keyboard alone) and the totals follow exactly;
the programme's financial progress shows the payments in action line B to the cent. axe checks
every state (a screenshot when it finds a violation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import today
from app.extensions import db
from app.households.models import Household, Person
from app.projects.models import Project
from tests.browser.conftest import assert_accessible, login, reading

pytestmark = pytest.mark.browser

OPEN = ("draft", "submitted", "approved", "active")
TITLE = "Tirocinio in officina meccanica e patentino di saldatura"
GOAL = "Ottenere il patentino di saldatore entro la fine del corso"


@dataclass(frozen=True)
class BudgetRow:
    category: str  # code
    description: str
    supplier: str
    typed: str  # the amount as typed
    planned: Decimal


LINES = (
    BudgetRow(
        "training",
        "Corso di saldatura a filo (120 ore)",
        "Agenzia formativa CIOFS Piemonte",
        "1.234,56",
        Decimal("1234.56"),
    ),
    BudgetRow(
        "transport",
        "Abbonamento mensile GTT urbano, sei mesi",
        "GTT - Gruppo Torinese Trasporti",
        "228,00",
        Decimal("228.00"),
    ),
    BudgetRow(
        "tools",
        "Scarpe antinfortunistiche e guanti da saldatore",
        "Antinfortunistica Dora s.r.l.",
        "145",
        Decimal("145.00"),
    ),
)
# What ente1 records after the approval: (committed, paid) per line, typed the Italian way.
SPENDING = (("1.234,56", "1.000,00"), ("228,00", "76,00"))


@dataclass(frozen=True)
class Young:
    """A young member of ente1's households, in a household with no open project."""

    person_id: int
    name: str
    household_id: int
    household_name: str


def euro(amount: Decimal) -> str:
    """As the portal writes money: € 1.234,56."""
    whole, cents = f"{amount:.2f}".split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def parse_euro(text: str) -> Decimal:
    digits = text.replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    return Decimal(digits.replace(".", "").replace(",", "."))


def _young() -> Young:
    ente1 = db.session.scalars(select(User).where(User.username == "ente1")).one()
    day = today()
    with_open_project = select(Project.household_id).where(Project.status.in_(OPEN))
    households = db.session.scalars(
        select(Household)
        .where(Household.organization_id == ente1.organization_id, Household.status == "active")
        .where(Household.id.not_in(with_open_project))
        .order_by(Household.id)
    )
    for household in households:
        person: Person | None = next((m for m in household.members if m.is_youth(day)), None)
        if person is not None:
            return Young(person.id, person.full_name, household.id, household.display_name)
    raise AssertionError("the demo leaves no young member of ente1 without an open project")


def logout(page: Page) -> None:
    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/login.*"))


def flash(page: Page, text: str) -> None:
    expect(page.locator("#messages")).to_contain_text(text)


def totals_row(page: Page) -> Locator:
    return page.locator("#budget-totals tr")


def expect_totals(
    page: Page,
    planned: Decimal,
    approved: Decimal,
    committed: Decimal,
    paid: Decimal,
) -> None:
    """The footer of the budget table: planned, approved, committed, paid, still available."""
    cells = totals_row(page).locator("td.text-end")
    expect(cells).to_have_text(
        [euro(planned), euro(approved), euro(committed), euro(paid), euro(approved - committed)]
    )


def line_row(page: Page, description: str) -> Locator:
    return page.locator("#budget-lines tr", has_text=description)


def focus_is_visible(page: Page) -> bool:
    """The focused element shows a focus ring: Bootstrap Italia's black and white box-shadow for
    keyboard focus, or an outline that is not transparent."""
    return bool(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || el === document.body || !el.matches(':focus-visible')) return false;
              const style = getComputedStyle(el);
              const clear = (c) => c === 'transparent' || /rgba\\(.*,\\s*0\\)$/.test(c);
              const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
                && !clear(style.outlineColor);
              const ring = style.boxShadow !== 'none' && /rgb\\(0, 0, 0\\)/.test(style.boxShadow);
              return outline || ring;
            }"""
        )
    )


def test_a_young_persons_project_from_draft_to_payments(page: Page, app: Flask) -> None:
    with reading(app):
        young = _young()

    project_id = _ente1_drafts_and_submits(page, young)
    before = _coordinator_approves(page, project_id)
    _ente1_records_commitments_and_payments(page, project_id)
    _coordinator_reads_the_programme(page, before)
    with reading(app):
        _every_change_audited(project_id)


# 1. ente1: a draft for the young person, three lines, a goal, sent to the City ----------------


def _ente1_drafts_and_submits(page: Page, young: Young) -> int:
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/households/{young.household_id}")
    page.get_by_role("link", name="Nuovo progetto").click()
    page.wait_for_url(re.compile(rf".*/projects/new\?household={young.household_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nuovo progetto individualizzato")
    person = page.get_by_label("Persona a cui è dedicato il progetto")
    expect(person).to_have_value(str(young.person_id))
    expect(person.locator("option:checked")).to_have_text(
        re.compile(rf"^{re.escape(young.name)}, \d+ anni \(giovane 18-29\)$")
    )
    expect(page.get_by_label("Progetto per una persona giovane (18-29 anni)")).to_be_checked()
    assert_accessible(page, "project-new")

    page.get_by_label("Titolo del progetto").fill(TITLE)
    page.get_by_label("Descrizione").fill(
        "Sei mesi di tirocinio in officina con il corso di saldatura; il tutor è l'operatrice."
    )
    day = today()
    page.get_by_label("Inizio previsto").fill(day.isoformat())
    page.get_by_label("Fine prevista").fill((day + timedelta(days=180)).isoformat())
    page.get_by_role("button", name="Crea il progetto").click()
    page.wait_for_url(re.compile(r".*/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    flash(page, "Progetto creato come bozza: aggiungi obiettivi e voci di budget.")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    header = page.locator("main h1 + p")
    expect(header.locator(".badge").first).to_have_text("bozza")
    expect(header).to_contain_text("giovani 18-29")
    expect(page.locator("main")).to_contain_text(young.name)
    expect(page.locator("#budget-lines")).to_contain_text("Nessuna voce di budget.")
    assert_accessible(page, "project-draft-empty")

    _add_lines(page)

    goal_form = page.locator("form", has=page.get_by_role("heading", name="Aggiungi un obiettivo"))
    goal_form.get_by_label("Obiettivo").fill(GOAL)
    goal_form.get_by_label("Da raggiungere entro").fill((day + timedelta(days=150)).isoformat())
    goal_form.get_by_role("button", name="Aggiungi l’obiettivo").click()
    flash(page, "Obiettivo aggiunto.")
    goals = page.get_by_role("table", name="Obiettivi del progetto")
    expect(goals.get_by_role("row", name=re.compile(GOAL))).to_be_visible()
    assert_accessible(page, "project-draft-with-goal")

    page.get_by_role("button", name="Invia alla Città per l'approvazione").click()
    flash(page, "Progetto inviato alla Città per l'approvazione.")
    expect(page.locator("main h1 + p .badge").first).to_have_text("in attesa di approvazione")
    # Waiting for the City: the lines are not editable any more.
    expect(
        page.locator("#budget-lines").get_by_role("link", name=re.compile("^Modifica"))
    ).to_have_count(0)
    assert_accessible(page, "project-submitted")
    logout(page)
    return project_id


def _add_lines(page: Page) -> None:
    planned = Decimal("0.00")
    for number, line in enumerate(LINES, start=1):
        form = page.locator("#line-add")
        form.get_by_label("Categoria di spesa").select_option(line.category)
        form.get_by_label("Descrizione della spesa").fill(line.description)
        form.get_by_label("Fornitore").fill(line.supplier)
        amount = form.get_by_label("Importo previsto")
        if number == 2:
            # Three decimals (or a thousand written the English way): refused next to the field,
            # everything typed kept, nothing added.
            amount.fill("12,345")
            form.get_by_role("button", name="Aggiungi la voce").click()
            error = page.locator("#line-planned-error")
            expect(error).to_have_text("Un importo in euro ha al massimo due decimali.")
            amount = page.locator("#line-add").get_by_label("Importo previsto")
            expect(amount).to_have_value("12,345")
            expect(amount).to_have_attribute("aria-invalid", "true")
            expect(amount).to_have_accessible_description(
                re.compile("Un importo in euro ha al massimo due decimali.")
            )
            expect(page.locator("#line-add").get_by_label("Descrizione della spesa")).to_have_value(
                line.description
            )
            expect(page.locator("#budget-lines tr")).to_have_count(1)
            expect_totals(page, planned, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
            assert_accessible(page, "project-line-wrong-amount")
        amount.fill(line.typed)
        page.locator("#line-add").get_by_role("button", name="Aggiungi la voce").click()
        planned += line.planned
        row = line_row(page, line.description)
        expect(row.locator("td").nth(3)).to_have_text(euro(line.planned))
        expect(page.locator("#line-add .alert-success")).to_have_text("Voce di budget aggiunta.")
        expect(page.locator("#messages")).to_have_text("Voce di budget aggiunta.")  # read aloud
        expect(page.locator("#budget-lines tr")).to_have_count(number)
        expect_totals(page, planned, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
        # A fresh form for the next line.
        expect(page.locator("#line-add").get_by_label("Descrizione della spesa")).to_have_value("")
        assert_accessible(page, f"project-line-added-{number}")
    expect(totals_row(page).locator("td").first).to_have_text("€ 1.607,56")


# 2. The coordinator approves the project and its budget ---------------------------------------


@dataclass(frozen=True)
class LineB:
    """Action line B on the programme page: what the portal records."""

    committed: Decimal
    paid: Decimal
    remaining: Decimal


def read_line_b(page: Page) -> LineB:
    page.goto("/projects/programme")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Avanzamento finanziario del programma"
    )
    cells = page.locator("#action-line-B td")
    return LineB(
        committed=parse_euro(cells.nth(1).inner_text()),
        paid=parse_euro(cells.nth(2).inner_text()),
        remaining=parse_euro(cells.nth(3).inner_text()),
    )


def _coordinator_approves(page: Page, project_id: int) -> LineB:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    before = read_line_b(page)
    assert_accessible(page, "project-programme-before")

    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="Progetti"
    ).click()
    page.wait_for_url("**/projects/")
    page.get_by_label("Stato").select_option("submitted")
    page.wait_for_url(re.compile(r".*/projects/\?stato=submitted$"))
    link = page.locator("#project-results").get_by_role("link", name=TITLE)
    expect(link).to_be_visible()
    # What the City is asked to approve, before opening the project.
    row = page.locator("#project-results tr", has=page.get_by_role("link", name=TITLE))
    expect(row.locator("td").nth(4)).to_have_text("€ 1.607,56")
    assert_accessible(page, "project-list-submitted")
    link.click()
    page.wait_for_url(f"**/projects/{project_id}")
    expect_totals(page, Decimal("1607.56"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert_accessible(page, "project-coordinator-submitted")

    page.get_by_role("button", name="Approva il progetto e il budget").click()
    flash(page, "Progetto e budget approvati.")
    expect(page.locator("main h1 + p .badge").first).to_have_text("approvato")
    for line in LINES:
        expect(line_row(page, line.description).locator("td").nth(4)).to_have_text(
            euro(line.planned)
        )
    expect_totals(page, Decimal("1607.56"), Decimal("1607.56"), Decimal("0.00"), Decimal("0.00"))
    assert_accessible(page, "project-approved-coordinator")
    logout(page)
    return before


# 3. ente1 records commitments and payments in the rows; one with the keyboard alone ------------


def _ente1_records_commitments_and_payments(page: Page, project_id: int) -> None:
    login(page, "ente1")
    page.wait_for_url("**/")
    page.goto(f"/projects/{project_id}")
    expect(page.locator("main h1 + p .badge").first).to_have_text("approvato")
    assert_accessible(page, "project-approved-ente1")
    approved = Decimal("1607.56")

    # Line 1 with the mouse: committed and paid typed the Italian way.
    first, (committed_typed, paid_typed) = LINES[0], SPENDING[0]
    row = line_row(page, first.description)
    page.evaluate("window.__sameDocument = true")
    row.get_by_role("link", name=f"Modifica {first.description}").click()
    editor = page.get_by_role("form", name=f"Modifica della voce {first.description}")
    committed = editor.get_by_label("Impegnato", exact=True)
    expect(committed).to_be_focused()
    assert_accessible(page, "project-line-editor")
    committed.fill(committed_typed)
    editor.get_by_label("Data dell'impegno").fill(today().isoformat())
    # Paid above committed: refused next to "Pagato", what was typed kept.
    editor.get_by_label("Pagato", exact=True).fill("1.300,00")
    editor.get_by_role("button", name="Salva").click()
    editor = page.get_by_role("form", name=f"Modifica della voce {first.description}")
    paid = editor.get_by_label("Pagato", exact=True)
    expect(page.locator(f"#{paid.get_attribute('id')}-error")).to_have_text(
        "Il pagato (€ 1.300,00) non può superare l'impegnato (€ 1.234,56)."
    )
    expect(paid).to_have_value("1.300,00")
    expect(paid).to_have_attribute("aria-invalid", "true")
    expect(paid).to_be_focused()  # the field to correct, not the top of the form
    expect(editor.get_by_label("Impegnato", exact=True)).to_have_value(committed_typed)
    expect_totals(page, approved, approved, Decimal("0.00"), Decimal("0.00"))
    assert_accessible(page, "project-line-paid-above-committed")
    paid.fill(paid_typed)
    editor.get_by_label("Data del pagamento").fill(today().isoformat())
    editor.get_by_role("button", name="Salva").click()
    row = line_row(page, first.description)
    cells = row.locator("td")
    expect(cells.nth(5)).to_contain_text("€ 1.234,56")
    expect(cells.nth(6)).to_contain_text("€ 1.000,00")
    expect(cells.nth(7)).to_have_text("€ 0,00")
    expect(page.locator("#messages")).to_have_text("Voce di budget aggiornata.")  # read aloud
    expect_totals(page, approved, approved, Decimal("1234.56"), Decimal("1000.00"))
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "project-line-1-paid")

    # Line 2 with the keyboard alone: Tab to its edit button, Enter, type, Tab, type, Enter.
    second, (committed_typed, paid_typed) = LINES[1], SPENDING[1]
    first_edit = line_row(page, first.description).get_by_role(
        "link", name=f"Modifica {first.description}"
    )
    expect(first_edit).to_be_focused()  # back on the row just saved, not lost
    page.keyboard.press("Tab")
    second_edit = line_row(page, second.description).get_by_role(
        "link", name=f"Modifica {second.description}"
    )
    expect(second_edit).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    editor = page.get_by_role("form", name=f"Modifica della voce {second.description}")
    committed = editor.get_by_label("Impegnato", exact=True)
    expect(committed).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Control+A")
    page.keyboard.type(committed_typed)
    paid = editor.get_by_label("Pagato", exact=True)
    paid_id = paid.get_attribute("id")
    for _press in range(6):  # through the date's day, month and year
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == paid_id:
            break
    expect(paid).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Control+A")
    page.keyboard.type(paid_typed)
    assert_accessible(page, "project-line-2-keyboard-editor")
    page.keyboard.press("Enter")
    row = line_row(page, second.description)
    expect(row.locator("td").nth(5)).to_have_text("€ 228,00")
    expect(row.locator("td").nth(6)).to_have_text("€ 76,00")
    expect_totals(page, approved, approved, Decimal("1462.56"), Decimal("1076.00"))
    second_edit = row.get_by_role("link", name=f"Modifica {second.description}")
    expect(second_edit).to_be_focused()
    assert focus_is_visible(page)
    assert page.evaluate("window.__sameDocument") is True
    assert_accessible(page, "project-line-2-paid-by-keyboard")

    # The page agrees after a reload: nothing was only on screen.
    page.reload()
    expect_totals(page, approved, approved, Decimal("1462.56"), Decimal("1076.00"))
    logout(page)


# 4. The programme's financial progress: action line B paid grows by exactly the payments -------


def _coordinator_reads_the_programme(page: Page, before: LineB) -> None:
    login(page, "coordinatore")
    page.wait_for_url("**/")
    after = read_line_b(page)
    payments = sum((parse_euro(paid) for _committed, paid in SPENDING), Decimal("0.00"))
    commitments = sum((parse_euro(c) for c, _paid in SPENDING), Decimal("0.00"))
    assert (payments, commitments) == (Decimal("1076.00"), Decimal("1462.56"))
    assert after.paid - before.paid == payments
    assert after.committed - before.committed == commitments
    assert before.remaining - after.remaining == commitments
    expect(page.locator("#action-line-B td").nth(2)).to_have_text(euro(after.paid))
    assert_accessible(page, "project-programme-after")


def _every_change_audited(project_id: int) -> None:
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "project", AuditEvent.object_id == project_id)
            .where(AuditEvent.action != "project_viewed")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions.count("budget_line_added") == 3, actions
    assert actions.count("budget_line_updated") == 2, actions
    for step in ("project_created", "project_submit", "project_approve"):
        assert step in actions, actions
