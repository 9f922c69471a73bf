"""Hub stock in a real browser: a delivery recorded, then a distribution at the counter takes
its quantity out of the stock (#25)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from app.registry.models import Site
from app.supplies.models import SupplyBalance, SupplyItem
from tests.browser.conftest import assert_accessible, login, reading
from tests.browser.test_distributions_finder_browser import a_family_of

pytestmark = pytest.mark.browser


def necessities_on_hand(app) -> tuple[str, int]:
    """ente1's first hub and its stock of basic necessities."""
    with reading(app):
        org_id = _db.session.scalar(select(User.organization_id).where(User.username == "ente1"))
        site = _db.session.scalars(
            select(Site)
            .where(Site.organization_id == org_id, Site.is_hub.is_(True))
            .order_by(Site.name)
        ).first()
        on_hand = _db.session.scalar(
            select(SupplyBalance.on_hand)
            .join(SupplyItem, SupplyItem.id == SupplyBalance.item_id)
            .where(
                SupplyBalance.site_id == site.id,
                SupplyItem.distribution_kind == "basic_necessities",
            )
        )
        return site.name, on_hand or 0


def test_a_delivery_then_a_distribution_at_the_counter(app, page):
    site_name, before = necessities_on_hand(app)
    last_name, name, _year, _code, _address = a_family_of(app, "ente1")
    login(page, "ente1")
    page.wait_for_url("**/")
    nav = page.get_by_role("navigation", name="Navigazione principale")
    nav.get_by_role("link", name="Scorte").click()
    page.wait_for_url("**/supplies/")
    assert_accessible(page, "supplies-operator")

    page.get_by_role("link", name="Registra una consegna").click()
    page.wait_for_url("**/supplies/deliveries/new")
    if page.get_by_label("Snodo").locator("option").count() > 1:
        page.get_by_label("Snodo").select_option(label=site_name)
    page.get_by_label("Numero del documento di trasporto").fill("DDT-BROWSER-1")
    page.locator("#lines-0-item_id").select_option(label="Beni di prima necessità")
    page.locator("#lines-0-quantity").fill("12")
    assert_accessible(page, "supplies-delivery-form")
    page.get_by_role("button", name="Registra la consegna").click()
    page.wait_for_url("**/supplies/")
    expect(page.locator("#messages")).to_contain_text("DDT-BROWSER-1")
    assert necessities_on_hand(app)[1] == before + 12

    page.goto("/distributions/")
    page.get_by_label("Cerca il nucleo per codice fiscale o cognome").fill(last_name)
    page.get_by_role("link", name=f"Seleziona {name}").first.click()
    form = page.locator("#distribution-form")
    expect(form).to_contain_text(name)
    if form.get_by_label("Snodo").locator("option").count() > 1:
        form.get_by_label("Snodo").select_option(label=site_name)
    form.get_by_label("Tipo", exact=True).select_option("basic_necessities")
    form.get_by_label("Quantità").fill("2")
    form.get_by_role("button", name="Registra").click()
    page.locator("#distribution-form .alert-success").wait_for()
    assert necessities_on_hand(app)[1] == before + 10

    page.goto("/supplies/")
    row = (
        page.locator("table.supply-stock tr")
        .filter(has_text=site_name)
        .filter(has_text="Beni di prima necessità")
    )
    expect(row).to_contain_text(str(before + 10))
    row.get_by_role("link").click()
    page.wait_for_url("**/supplies/stock/*")
    expect(page.locator("table.supply-movements")).to_contain_text("Distribuzione")
    expect(page.locator("table.supply-movements")).to_contain_text("DDT-BROWSER-1")
    assert_accessible(page, "supplies-movements")


def test_the_city_sees_the_chart_and_the_short_hub(app, page):
    login(page, "coordinatore")
    page.wait_for_url("**/")
    expect(page.locator("#short-supplies-title")).to_contain_text("Snodi con scorte basse")
    assert_accessible(page, "home-coordinator-short-supplies")
    page.goto("/supplies/")
    expect(page.locator("svg.supply-chart")).to_be_visible()
    expect(page.locator(".badge", has_text="scorta bassa").first).to_be_visible()
    assert_accessible(page, "supplies-city")
    page.get_by_role("link", name="Report mensile delle scorte").click()
    page.wait_for_url("**/supplies/report")
    assert_accessible(page, "supplies-report")
