"""Browser harness: the portal served on a local port with demo data, driven by Debian's Chromium.

Browser tests skip, with the reason, only where Chromium is absent; CI installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db as _db
from tests.conftest import _truncate, load_demo

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=it",  # date fields show gg/mm/aaaa, as on the social workers' PCs
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.browser


# The test server (werkzeug, in a thread) leaves a static file's handle to the garbage collector
# when Chromium drops a font download half way; it is the dev server's habit (gunicorn serves the
# portal), not the portal's, so browser tests do not fail on that ResourceWarning.
SERVER_NOISE = (
    "ignore:unclosed file:ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


@pytest.hookimpl(tryfirst=True)  # before `-m "not browser"` deselects (CI's SQLite pass, .ci/run)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)  # every file here, whether it says so or not
            for rule in SERVER_NOISE:
                item.add_marker(pytest.mark.filterwarnings(rule))
    if not Path(CHROMIUM).exists():
        reason = f"Chromium non trovato in {CHROMIUM}: installare il pacchetto Debian 'chromium'"
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[str]:
    """The portal with the demo data, served by a real HTTP server in a thread."""
    with app.app_context():
        _truncate()
        load_demo()
        _db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        _db.session.remove()
        _truncate()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser: object, live_server: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """A tab on the live server; parametrised indirectly with a width, a phone-sized one."""
    width = getattr(request, "param", None)
    viewport = {"width": width, "height": 760} if width else None
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server, locale="it-IT", timezone_id="Europe/Rome", viewport=viewport
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(msg: object) -> None:
        # A 422 is the portal's answer to a form with errors, shown to the user: not a fault.
        if msg.type == "error" and "status of 422" not in msg.text:  # type: ignore[attr-defined]
            errors.append(msg.text)  # type: ignore[attr-defined]

    tab.on("console", on_console)
    yield tab
    context.close()
    assert not errors, f"errori JavaScript o CSP nella pagina: {errors}"


def assert_accessible(page: object, name: str) -> None:
    """axe-core, WCAG 2.1 A and AA: zero violations; on a violation, a screenshot of the page is
    kept as an artefact (test-artifacts/<name>.png) beside the report."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    if results.violations_count:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        raise AssertionError(f"{results.generate_report()}\nschermata: {path}")


def login(page: object, username: str, password: str = "demo-Torino-2026") -> None:
    page.goto("/login")  # type: ignore[attr-defined]
    page.get_by_label("Nome utente").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Accedi").last.click()  # type: ignore[attr-defined]


# Keyboard-only journeys (issue 11): reach every control with Tab from where the focus is, and
# check that the focused control shows it. Bootstrap Italia draws checkboxes and radio buttons on
# their label, so the ring may be on the label; select fields animate their outline (0.2 s), so the
# ring is awaited rather than read at once.
FOCUS_IS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || !el.matches(':focus-visible')) return false;
  const seen = (c) => c !== 'transparent' && !/rgba\\([^)]*,\\s*0\\)$/.test(c);
  const ringed = (node) => {
    const s = getComputedStyle(node);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
      && seen(s.outlineColor);
    const shadow = s.boxShadow !== 'none' && /rgb\\(/.test(s.boxShadow);
    return outline || shadow;
  };
  return [el, ...(el.labels || [])].some(ringed);
}"""


def focus_is_visible(page: object) -> bool:
    """The focused element (or, for a checkbox or radio, its label) shows a focus ring."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(FOCUS_IS_VISIBLE, timeout=2_000)  # type: ignore[attr-defined]
    except PlaywrightTimeout:  # the ring never appeared
        return False
    return True


def tab_to(page: object, target: object, max_tabs: int = 200, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab if `backwards`) until `target` has the focus; assert the focus ring.

    Returns the number of presses, so a journey can keep its tab counts in check."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(max_tabs + 1):
        if target.evaluate("el => el === document.activeElement"):  # type: ignore[attr-defined]
            break
        if presses == max_tabs:
            focused = page.evaluate(  # type: ignore[attr-defined]
                "() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)"
            )
            raise AssertionError(f"{target} not reached by {max_tabs} × {key}; focus on {focused}")
        page.keyboard.press(key)  # type: ignore[attr-defined]
    assert focus_is_visible(page), f"the focus on {target} is not visible"
    return presses


def keyboard_login(page: object, username: str, password: str = "demo-Torino-2026") -> None:
    """Log in with the keyboard alone: Tab to the user name, type, Tab, type, Enter."""
    page.goto("/login")  # type: ignore[attr-defined]
    tab_to(page, page.get_by_label("Nome utente"))  # type: ignore[attr-defined]
    page.keyboard.type(username)  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.type") == "password"  # type: ignore[attr-defined]
    page.keyboard.type(password)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/")  # type: ignore[attr-defined]


@contextmanager
def reading(app: Flask) -> Iterator[None]:
    """Read the live server's database from the test: a fresh session, closed at once."""
    with app.app_context():
        try:
            yield
        finally:
            _db.session.remove()
