"""When a save fails (network down, a proxy's error page, an expired session), the user is told
in Italian and what they typed stays on the page, ready to be sent again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from tests.browser.conftest import assert_accessible, login, reading
from tests.browser.test_households_browser import fill_member

pytestmark = pytest.mark.browser

ADDRESS = "Via Cigna 200"


@pytest.fixture
def tab(browser: object, live_server: str) -> Iterator[object]:
    """A page whose failed requests are expected: the test checks what the user sees instead."""
    context = browser.new_context(base_url=live_server, locale="it-IT", timezone_id="Europe/Rome")  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    yield page
    context.close()
    assert not script_errors, f"errori JavaScript nella pagina: {script_errors}"


def start_intake(page: object, surname: str, born: date) -> None:
    login(page, "ente1")
    page.wait_for_url("**/")  # type: ignore[attr-defined]
    page.goto("/households/new")  # type: ignore[attr-defined]
    page.get_by_label("Indirizzo di residenza o domicilio").fill(ADDRESS)  # type: ignore[attr-defined]
    page.get_by_label("Circoscrizione").select_option("6")  # type: ignore[attr-defined]
    page.locator("label[for=needs-0]").click()  # type: ignore[attr-defined]
    fill_member(page, 0, "Amina", surname, born, "F", "reference")


def message_in_view(page: object) -> bool:
    """The message area is on screen, not scrolled away above the end of the long form."""
    for _ in range(20):
        top = page.evaluate("document.getElementById('messages').getBoundingClientRect().top")  # type: ignore[attr-defined]
        if top >= 0:
            return True
        page.wait_for_timeout(50)  # type: ignore[attr-defined]
    return False


def save(page: object) -> None:
    page.get_by_role("button", name="Prendi in carico").click()  # type: ignore[attr-defined]


def assert_input_kept(page: object, surname: str) -> None:
    assert page.get_by_label("Indirizzo di residenza o domicilio").input_value() == ADDRESS  # type: ignore[attr-defined]
    assert page.locator("#members-0-last_name").input_value() == surname  # type: ignore[attr-defined]
    assert page.url.endswith("/households/new")  # type: ignore[attr-defined]


def test_network_down_and_a_proxy_error_page_keep_the_form_and_say_why(tab, live_server):
    page = tab
    start_intake(page, "Rete", date(1990, 5, 17))

    def network_down(route: object) -> None:
        if route.request.method == "POST":  # type: ignore[attr-defined]
            route.abort("internetdisconnected")  # type: ignore[attr-defined]
        else:
            route.continue_()  # type: ignore[attr-defined]

    page.route("**/households/new", network_down)
    save(page)
    message = page.locator("#messages .alert-danger")
    message.wait_for()
    assert "Il portale non risponde" in message.inner_text()
    assert "quello che hai scritto è ancora qui" in message.inner_text()
    assert message_in_view(page), "the message is scrolled out of sight, above the long form"
    assert_input_kept(page, "Rete")
    assert_accessible(page, "resilience-network-down")
    page.unroute("**/households/new")

    def bad_gateway(route: object) -> None:
        if route.request.method == "POST":  # type: ignore[attr-defined]
            route.fulfill(  # type: ignore[attr-defined]
                status=502,
                content_type="text/html",
                body="<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
            )
        else:
            route.continue_()  # type: ignore[attr-defined]

    page.route("**/households/new", bad_gateway)
    save(page)
    page.get_by_text("Il portale non è riuscito a completare la richiesta").wait_for()
    assert "Bad Gateway" not in page.locator("body").inner_text()  # the proxy page never lands
    assert_input_kept(page, "Rete")
    page.unroute("**/households/new")

    # The network is back: the same form, pressed again, is saved with what was typed.
    save(page)
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Nucleo Rete Amina"


def expire_session(page: object, app: Flask) -> None:
    """Turn the browser's session cookie into one idle for an hour, as after a long phone call."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = next(c for c in page.context.cookies() if c["name"] == name)  # type: ignore[attr-defined]
    data = serializer.loads(cookie["value"])
    data["seen_at"] -= 3600
    cookie["value"] = serializer.dumps(data)
    page.context.add_cookies([cookie])  # type: ignore[attr-defined]


def test_an_expired_session_keeps_the_form_and_saves_it_after_logging_in_again(
    tab, live_server, app
):
    page = tab
    start_intake(page, "Sessione", date(1987, 9, 3))
    expire_session(page, app)

    save(page)
    message = page.locator("#messages .alert-warning")
    message.wait_for()
    assert "La sessione è scaduta" in message.inner_text()
    assert message_in_view(page), "the message is scrolled out of sight, above the long form"
    assert_input_kept(page, "Sessione")
    assert_accessible(page, "resilience-session-expired")

    # The message's link opens the login in a new tab; the form's tab waits untouched.
    with page.context.expect_page() as new_tab:
        message.get_by_role("link", name="Accedi di nuovo in una nuova scheda").click()
    login_tab = new_tab.value
    login_tab.wait_for_load_state()
    login_tab.get_by_label("Nome utente").fill("ente1")
    login_tab.get_by_label("Password").fill("demo-Torino-2026")
    login_tab.get_by_role("button", name="Accedi").last.click()
    login_tab.get_by_role("heading", name="Accesso eseguito").wait_for()
    login_tab.close()

    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # headless tabs get no focus event
    page.get_by_text("Hai di nuovo accesso al portale").wait_for()
    assert_input_kept(page, "Sessione")

    save(page)
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Nucleo Sessione Amina"
    assert ADDRESS in page.locator("main").inner_text()


def test_the_database_down_keeps_the_form_and_says_nothing_was_saved(tab, live_server, app):
    from tests.test_resilience import connection_lost

    page = tab
    start_intake(page, "Database", date(1979, 2, 11))
    with app.app_context():
        engine = _db.engine
    with connection_lost(engine, after_commit=False):
        save(page)
        message = page.locator("#messages .alert-danger")
        message.wait_for()
        assert "Il portale non raggiunge il database" in message.inner_text()
        assert "quanto hai scritto non è stato salvato" in message.inner_text()
        assert message_in_view(page), "the message is scrolled out of sight, above the long form"
        assert_input_kept(page, "Database")

    # The database is back: the same form, pressed again, is saved with what was typed.
    save(page)
    page.wait_for_url(re.compile(r".*/households/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Nucleo Database Amina"


def test_a_save_whose_page_fails_after_the_commit_says_it_was_saved(tab, live_server, app):
    """The database commits ente1's inline edit of a service, then the driver reports the
    connection gone as the COMMIT returns: the user reads that the change is saved, and it is,
    once. (A connection lost after the commit is not even seen: the row was drawn before it.)"""
    from app.registry.models import Service
    from tests.test_resilience import fails_as_it_commits

    page = tab
    login(page, "ente1")
    page.wait_for_url("**/")  # type: ignore[attr-defined]
    with reading(app):
        org_id = _db.session.scalar(select(User.organization_id).where(User.username == "ente1"))
    page.goto(f"/entities/{org_id}")  # type: ignore[attr-defined]
    row = page.locator("table.services-table tbody tr").first  # type: ignore[attr-defined]
    row.get_by_role("link", name=re.compile("^Modifica")).click()
    editor = page.locator("tr.row-editing")  # type: ignore[attr-defined]
    editor.wait_for()
    editor.get_by_label("Posti al mese").fill("13")
    with app.app_context():
        engine = _db.engine
    with fails_as_it_commits(engine):
        editor.get_by_role("button", name="Salva").click()
        message = page.locator("#messages .alert-warning")  # type: ignore[attr-defined]
        message.wait_for()
        assert "La modifica è stata salvata" in message.inner_text()
        assert "ricarica la pagina" in message.inner_text()
    assert_accessible(page, "resilience-saved-after-commit")
    with reading(app):
        places = _db.session.scalars(
            select(Service.monthly_capacity).where(Service.organization_id == org_id)
        ).all()
    assert 13 in places  # saved: the user was not told to try again
    # Reloading, as the message says, shows the saved row.
    page.reload()  # type: ignore[attr-defined]
    assert "13" in page.locator("table.services-table tbody").inner_text()  # type: ignore[attr-defined]
