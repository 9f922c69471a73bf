"""Hub supply: what a hub receives, gives out and adjusts, and what the City sees of it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.admin.models import set_setting
from app.audit.models import AuditEvent
from app.clock import today
from app.distributions import operations as distributions
from app.distributions.models import Distribution
from app.errors import DomainError
from app.extensions import db as _db
from app.notifications.models import Notification
from app.notifications.reminders import send_reminders
from app.supplies import operations
from app.supplies.models import SupplyBalance, SupplyMovement
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def hub(name: str = "Snodo Aurora"):
    org = factories.organization(is_hub=True)
    site = factories.site(org, is_hub=True, distribution_days=["tue"], name=name)
    return org, site


def basket() -> object:
    item = operations.standard_item("food_basket")
    assert item is not None
    return item


def deliver(site, operator, quantity, number="DDT-1", on=None, item=None):
    return operations.record_delivery(
        site, number, on or today(), [(item or basket(), quantity)], operator
    )


def on_hand(site, item=None) -> int:
    balance = operations.existing_balance(site, item or basket())
    return balance.on_hand if balance is not None else 0


def ledger_sum(site, item=None) -> int:
    item = item or basket()
    return (
        _db.session.scalar(
            select(func.coalesce(func.sum(SupplyMovement.quantity), 0)).where(
                SupplyMovement.site_id == site.id, SupplyMovement.item_id == item.id
            )
        )
        or 0
    )


def post(client, path, data, headers=None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


@pytest.fixture
def counter(login_as, db):
    org, site = hub()
    household = factories.household(org, members=2)
    user = login_as("entity_operator", org=org)
    basket()
    _db.session.commit()
    return {"org": org, "site": site, "household": household, "user": user}


# Arithmetic ---------------------------------------------------------------------------------


def test_delivery_distribution_and_adjustment_add_up(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    deliver(site, operator, 10)
    assert on_hand(site) == 10
    distributions.record_distribution(household, site, "food_basket", 3, today(), operator)
    assert on_hand(site) == 7
    operations.record_adjustment(site, basket(), "damaged", -2, today(), operator, "Bagnati")
    assert on_hand(site) == 5
    operations.record_adjustment(site, basket(), "count_correction", 1, today(), operator)
    assert on_hand(site) == 6
    assert ledger_sum(site) == 6
    kinds = [
        m.kind for m in _db.session.scalars(select(SupplyMovement).order_by(SupplyMovement.id))
    ]
    assert kinds == ["delivery", "distribution", "adjustment", "adjustment"]


def test_a_transfer_moves_stock_to_the_other_hub(db):
    org, site = hub("Snodo Aurora")
    _other_org, other = hub("Snodo Vallette")
    operator = factories.user("entity_operator", organization=org)
    deliver(site, operator, 8)
    operations.record_adjustment(
        site, basket(), "transferred", -3, today(), operator, to_site=other
    )
    assert (on_hand(site), on_hand(other)) == (5, 3)
    incoming = _db.session.scalar(
        select(SupplyMovement).where(SupplyMovement.kind == "transfer_in")
    )
    assert incoming.site_id == other.id
    assert incoming.other_site_id == site.id
    assert incoming.quantity == 3


def test_a_distribution_beyond_the_stock_is_refused_and_nothing_is_saved(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    deliver(site, operator, 1)
    _db.session.commit()
    with pytest.raises(operations.OutOfStock) as refused:
        distributions.record_distribution(household, site, "food_basket", 2, today(), operator)
    assert "Scorte esaurite per paniere alimentare allo snodo Snodo Aurora" in refused.value.message
    _db.session.rollback()
    assert _db.session.scalar(select(func.count()).select_from(Distribution)) == 0
    assert on_hand(site) == 1


def test_a_hub_that_never_received_the_kind_is_not_tracked(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    distributions.record_distribution(household, site, "food_basket", 1, today(), operator)
    assert _db.session.scalar(select(func.count()).select_from(SupplyMovement)) == 0


def test_outgoing_reasons_need_a_negative_quantity_and_stock(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    deliver(site, operator, 2)
    with pytest.raises(DomainError):
        operations.record_adjustment(site, basket(), "expired", 2, today(), operator)
    with pytest.raises(operations.OutOfStock):
        operations.record_adjustment(site, basket(), "expired", -3, today(), operator)


def test_a_delivery_note_is_recorded_once_per_hub(db):
    org, site = hub()
    _other_org, other = hub("Snodo Vallette")
    operator = factories.user("entity_operator", organization=org)
    deliver(site, operator, 5, number="DDT 2026/7")
    with pytest.raises(DomainError, match="già registrato"):
        deliver(site, operator, 5, number="DDT 2026/7")
    other_operator = factories.user("entity_operator", organization=other.organization)
    deliver(other, other_operator, 5, number="DDT 2026/7")  # another hub's note: fine


def test_another_organization_cannot_record_at_a_hub(db):
    _org, site = hub()
    stranger = factories.user("entity_operator", organization=factories.organization(is_hub=True))
    with pytest.raises(DomainError):
        deliver(site, stranger, 5)


# Shortage -----------------------------------------------------------------------------------


def test_the_hub_and_the_city_are_told_once_when_cover_falls_below_the_threshold(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    colleague = factories.user("entity_operator", organization=org)
    city = factories.user("coordinator")
    households = [factories.household(org) for _ in range(4)]
    deliver(site, operator, 20)
    # 12 baskets in four weeks: 3/7 a day. 20 - 12 = 8 left: 18,7 days of cover.
    for n, household in enumerate(households):
        day = today() - timedelta(days=7 * n)
        distributions.record_distribution(household, site, "food_basket", 3, day, operator)
    distributions.record_distribution(
        households[0], site, "basic_necessities", 1, today(), operator
    )
    assert not _db.session.scalars(select(Notification)).all()
    # 8 → 2 left: 2 ÷ (12 / 28) = 4,7 days, below 5.
    operations.record_adjustment(site, basket(), "damaged", -6, today(), operator)
    told = _db.session.scalars(
        select(Notification).where(Notification.kind == "supply_short")
    ).all()
    assert {n.user_id for n in told} == {operator.id, colleague.id, city.id}
    assert told[0].params["site"] == "Snodo Aurora"
    # Still short: nobody is told again, by the counter or by the night.
    operations.record_adjustment(site, basket(), "damaged", -1, today(), operator)
    send_reminders(today())
    assert (
        len(
            _db.session.scalars(
                select(Notification).where(Notification.kind == "supply_short")
            ).all()
        )
        == 3
    )
    # A delivery ends the episode; the next shortage is a new one.
    deliver(site, operator, 30, number="DDT-2")
    assert operations.existing_balance(site, basket()).short_since is None
    operations.record_adjustment(site, basket(), "count_correction", -29, today(), operator)
    assert (
        len(
            _db.session.scalars(
                select(Notification).where(Notification.kind == "supply_short")
            ).all()
        )
        == 6
    )


def test_opening_the_stock_reads_the_shortage_notice(client, counter):
    site, user, household = counter["site"], counter["user"], counter["household"]
    deliver(site, user, 3)
    distributions.record_distribution(household, site, "basic_necessities", 1, today(), user)
    other = factories.user("entity_operator", organization=counter["org"])
    _db.session.commit()
    # Basic necessities are not tracked here; baskets: 3 on hand, nothing given: not short.
    assert not _db.session.scalars(select(Notification)).all()
    operations.record_adjustment(site, basket(), "count_correction", -2, today(), other)
    distributions.record_distribution(household, site, "food_basket", 1, today(), other)
    _db.session.commit()
    notice = _db.session.scalar(
        select(Notification).where(
            Notification.user_id == user.id, Notification.kind == "supply_short"
        )
    )
    assert notice is not None
    assert notice.read_at is None
    balance = operations.existing_balance(site, basket())
    assert client.get(f"/supplies/stock/{balance.id}").status_code == 200
    _db.session.expire_all()
    assert _db.session.get(Notification, notice.id).read_at is not None


def test_the_threshold_is_a_setting(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    set_setting(operations.SHORTAGE_SETTING, 2)
    deliver(site, operator, 12)
    # 7 given in four weeks: a quarter a day.
    distributions.record_distribution(household, site, "food_basket", 7, today(), operator)
    # 1 left is 4 days: short under the default of 5, not under the setting of 2.
    operations.record_adjustment(site, basket(), "damaged", -4, today(), operator)
    assert operations.existing_balance(site, basket()).short_since is None
    operations.record_adjustment(site, basket(), "damaged", -1, today(), operator)
    assert operations.existing_balance(site, basket()).short_since is not None


def test_the_city_home_lists_short_hubs(client, login_as, db):
    org, site = hub("Snodo Barriera")
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    deliver(site, operator, 10)
    distributions.record_distribution(household, site, "food_basket", 9, today(), operator)
    _db.session.commit()
    login_as("coordinator")
    page = client.get("/").get_data(as_text=True)
    assert "Snodi con scorte basse" in page
    assert "Snodo Barriera · paniere alimentare" in page


# Pages --------------------------------------------------------------------------------------


def test_operator_records_a_delivery_and_sees_the_stock(client, counter):
    site = counter["site"]
    form = client.get("/supplies/deliveries/new").get_data(as_text=True)
    item = basket()
    response = post(
        client,
        "/supplies/deliveries/new",
        {
            "site_id": str(site.id),
            "note_number": "DDT-2026-0042",
            "delivered_on": today().isoformat(),
            "lines-0-item_id": str(item.id),
            "lines-0-quantity": "25",
            "idempotency_key": csrf_token_from(form) and "chiave-consegna-0123456789",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get("/supplies/").get_data(as_text=True)
    assert "Paniere alimentare" in page
    assert "25" in page
    assert on_hand(site) == 25
    event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "supply_delivery_recorded")
    )
    assert event.changes["note_number"] == "DDT-2026-0042"


def test_a_delivery_without_lines_is_refused_next_to_the_lines(client, counter):
    response = post(
        client,
        "/supplies/deliveries/new",
        {"site_id": str(counter["site"].id), "note_number": "DDT-9",
         "delivered_on": today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Aggiungi almeno una riga con articolo e quantità." in response.get_data(as_text=True)
    assert 'value="DDT-9"' in response.get_data(as_text=True)


def test_the_counter_refuses_a_basket_when_the_hub_ran_out(client, counter):
    site, household, user = counter["site"], counter["household"], counter["user"]
    deliver(site, user, 1)
    operations.record_adjustment(site, basket(), "damaged", -1, today(), user)
    _db.session.commit()
    response = post(
        client,
        "/distributions/",
        {"household_id": str(household.id), "site_id": str(site.id),
         "distributed_on": today().isoformat(), "kind": "food_basket", "quantity": "1"},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 422
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert "Scorte esaurite per paniere alimentare allo snodo Snodo Aurora" in body
    assert _db.session.scalar(select(func.count()).select_from(Distribution)) == 0


def test_an_adjustment_with_a_transfer_from_the_page(client, counter):
    site, user = counter["site"], counter["user"]
    _org, other = hub("Snodo Falchera")
    deliver(site, user, 6)
    _db.session.commit()
    response = post(
        client,
        "/supplies/adjustments/new",
        {"site_id": str(site.id), "item_id": str(basket().id), "reason": "transferred",
         "quantity": "-2", "to_site_id": str(other.id), "occurred_on": today().isoformat(),
         "note": "Richiesta della Città"},
    )  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    assert (on_hand(site), on_hand(other)) == (4, 2)
    movements = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "trasferito ad altro snodo" in movements
    assert "a Snodo Falchera" in movements
    assert user.full_name in movements


def test_a_positive_quantity_for_damaged_goods_is_refused_by_the_form(client, counter):
    response = post(
        client,
        "/supplies/adjustments/new",
        {"site_id": str(counter["site"].id), "item_id": str(basket().id), "reason": "damaged",
         "quantity": "3", "occurred_on": today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 422
    assert "quantità negativa" in response.get_data(as_text=True)


def test_another_hubs_stock_is_not_found(client, counter):
    _org, other = hub("Snodo di un altro ente")
    other_operator = factories.user("entity_operator", organization=other.organization)
    deliver(other, other_operator, 4)
    deliver(counter["site"], counter["user"], 4, number="DDT-mine")
    _db.session.commit()
    theirs = operations.existing_balance(other, basket())
    mine = operations.existing_balance(counter["site"], basket())
    assert client.get(f"/supplies/stock/{theirs.id}").status_code == 404
    assert client.get(f"/supplies/stock/{mine.id}").status_code == 200
    page = client.get("/supplies/").get_data(as_text=True)
    assert "Snodo di un altro ente" not in page


def test_the_city_sees_every_hub_with_a_chart(client, login_as, db):
    for name in ("Snodo Aurora", "Snodo Lingotto"):
        org, site = hub(name)
        deliver(site, factories.user("entity_operator", organization=org), 5, number=name)
    _db.session.commit()
    login_as("coordinator")
    page = client.get("/supplies/").get_data(as_text=True)
    assert "Snodo Aurora" in page
    assert "Snodo Lingotto" in page
    assert '<svg class="supply-chart" role="img"' in page


def test_the_city_defines_an_item_and_hubs_receive_it(client, login_as, db):
    login_as("coordinator")
    response = post(client, "/supplies/items", {"name": "Kit igiene neonati"})
    assert response.status_code == 303
    assert "Kit igiene neonati" in client.get("/supplies/items").get_data(as_text=True)
    again = post(client, "/supplies/items", {"name": "kit igiene neonati"})
    assert again.status_code == 422


def test_monthly_report_figures_and_exports(client, login_as, db):
    org, site = hub("Snodo Aurora")
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    first = today().replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    deliver(site, operator, 10, number="DDT-A", on=last_month)
    distributions.record_distribution(household, site, "food_basket", 2, last_month, operator)
    deliver(site, operator, 6, number="DDT-B", on=first)
    operations.record_adjustment(site, basket(), "expired", -1, first, operator)
    distributions.record_distribution(household, site, "basic_necessities", 1, first, operator)
    _db.session.commit()
    login_as("coordinator")
    month = last_month.strftime("%Y-%m")
    response = client.get(f"/supplies/report.csv?mese={month}")
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][:4] == ["Mese", "Snodo", "Ente", "Articolo"]
    assert rows[1][1] == "Snodo Aurora"
    assert rows[1][4:] == ["10", "2", "0", "8"]
    current = client.get(f"/supplies/report.xlsx?mese={first.strftime('%Y-%m')}")
    sheet = load_workbook(io.BytesIO(current.data)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][4:] == [6, 0, -1, 13]
    page = client.get(f"/supplies/report?mese={first.strftime('%Y-%m')}").get_data(as_text=True)
    assert "Snodo Aurora" in page


def test_housing_providers_have_no_supply_pages(client, login_as, db):
    login_as("housing_provider")
    assert client.get("/supplies/").status_code == 403
    assert "Scorte" not in client.get("/").get_data(as_text=True)


def test_on_hand_is_the_sum_of_the_movements(db):
    org, site = hub()
    operator = factories.user("entity_operator", organization=org)
    household = factories.household(org)
    deliver(site, operator, 5)
    distributions.record_distribution(household, site, "food_basket", 2, today(), operator)
    for balance in _db.session.scalars(select(SupplyBalance)):
        assert balance.on_hand == ledger_sum(balance.site, balance.item) >= 0
