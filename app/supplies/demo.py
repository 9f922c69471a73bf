"""Demo stock: each hub received a delivery note on the first of every month it distributed,
before its distributions, so its stock never went below zero; every demo distribution takes its
quantity out of the ledger. One hub is short today (cover below the threshold) and its staff and
the City have been told; the others hold about three weeks of stock."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import Role, User
from app.distributions.models import Distribution
from app.extensions import db
from app.registry.models import Site
from app.supplies.models import (
    SupplyBalance,
    SupplyDelivery,
    SupplyDeliveryLine,
    SupplyItem,
    SupplyMovement,
)
from app.supplies.operations import WINDOW_DAYS, review_all_shortages, standard_item

NORMAL_COVER_DAYS = 20
SHORT_COVER_DAYS = 2
DAMAGED = 2  # baskets found damaged at the first hub on the current month's delivery day


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), UTC)


def seed_supplies(users: dict[str, User], today: date) -> dict[str, int]:
    items = {
        kind: item
        for kind in ("food_basket", "basic_necessities")
        if (item := standard_item(kind)) is not None
    }
    hygiene = SupplyItem(name="kit igiene personale", active=True)
    db.session.add(hygiene)
    db.session.flush()
    given = list(
        db.session.scalars(
            select(Distribution).order_by(
                Distribution.site_id,
                Distribution.distributed_on,
                Distribution.created_at,
                Distribution.id,
            )
        )
    )
    by_key: dict[tuple[int, str], list[Distribution]] = defaultdict(list)
    for d in given:
        by_key[(d.site_id, d.kind)].append(d)
    sites = {
        s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_({k[0] for k in by_key})))
    }
    window_start = today - timedelta(days=WINDOW_DAYS)

    def daily(key: tuple[int, str]) -> float:
        return sum(d.quantity for d in by_key[key] if d.distributed_on > window_start) / WINDOW_DAYS

    # The short hub: the busiest food counter of the last four weeks, not the demo operator's.
    ente1_org = users["ente1"].organization_id
    candidates = sorted(
        (k for k in by_key if k[1] == "food_basket" and sites[k[0]].organization_id != ente1_org),
        key=lambda k: (-daily(k), k[0]),
    )
    short_key = candidates[0] if candidates and daily(candidates[0]) * 5 > 1 else None
    site_order = sorted(sites)
    first_hub = site_order[0] if site_order else None

    operators: dict[int, int | None] = {}
    for user in users.values():
        if user.role == Role.ENTITY_OPERATOR.value and user.organization_id is not None:
            operators.setdefault(user.organization_id, user.id)

    # Deliveries: one note per hub and month, a line per kind given that month.
    deliveries: dict[tuple[int, date], SupplyDelivery] = {}
    lines: dict[tuple[int, date, str], int] = {}
    plans: dict[tuple[int, str], tuple[int, list[date]]] = {}
    for key, rows in by_key.items():
        site_id, kind = key
        months = sorted({d.distributed_on.replace(day=1) for d in rows})
        pace = daily(key)
        if key == short_key:
            reserve = max(1, math.floor(pace * SHORT_COVER_DAYS))
        else:
            reserve = max(10, math.ceil(pace * NORMAL_COVER_DAYS))
        plans[key] = (reserve, months)
        for n, month in enumerate(months):
            total = sum(d.quantity for d in rows if d.distributed_on.replace(day=1) == month)
            extra = reserve if n == 0 else 0
            if site_id == first_hub and kind == "food_basket" and month == months[-1]:
                extra += DAMAGED
            lines[(site_id, month, kind)] = total + extra
            if (site_id, month) not in deliveries:
                index = site_order.index(site_id) + 1
                deliveries[(site_id, month)] = SupplyDelivery(
                    site_id=site_id,
                    note_number=f"TS-{month:%Y%m}-{index:02d}",
                    delivered_on=month,
                    recorded_by_id=operators.get(sites[site_id].organization_id),
                    created_at=_at(month, 7),
                )
    db.session.add_all(deliveries.values())
    db.session.flush()
    for (site_id, month, kind), quantity in sorted(lines.items()):
        db.session.add(
            SupplyDeliveryLine(
                delivery_id=deliveries[(site_id, month)].id,
                item_id=items[kind].id,
                quantity=quantity,
            )
        )

    # The ledger, in the order things happened.
    movements = 0
    for key in sorted(by_key):
        site_id, kind = key
        item = items[kind]
        balance = SupplyBalance(site_id=site_id, item_id=item.id, on_hand=0)
        db.session.add(balance)
        db.session.flush()
        _reserve, months = plans[key]
        on_hand = 0
        rows = by_key[key]
        events: list[tuple[date, int, SupplyMovement]] = []
        for month in months:
            delivery = deliveries[(site_id, month)]
            quantity = lines[(site_id, month, kind)]
            events.append((month, 0, SupplyMovement(kind="delivery", quantity=quantity,
                                                    delivery_id=delivery.id,
                                                    actor_id=delivery.recorded_by_id,
                                                    created_at=_at(month, 7))))  # fmt: skip
            if site_id == first_hub and kind == "food_basket" and month == months[-1]:
                events.append((month, 1, SupplyMovement(
                    kind="adjustment", quantity=-DAMAGED, reason="damaged",
                    note="Confezioni bagnate alla consegna", actor_id=delivery.recorded_by_id,
                    created_at=_at(month, 8))))  # fmt: skip
        for d in rows:
            events.append((d.distributed_on, 2, SupplyMovement(
                kind="distribution", quantity=-d.quantity, distribution_id=d.id,
                actor_id=d.operator_id, created_at=d.created_at)))  # fmt: skip
        for day, _order, movement in sorted(events, key=lambda e: (e[0], e[1])):
            on_hand += movement.quantity
            movement.balance_id = balance.id
            movement.site_id = site_id
            movement.item_id = item.id
            movement.occurred_on = day
            movement.balance_after = on_hand
            db.session.add(movement)
            movements += 1
        balance.on_hand = on_hand

    if first_hub is not None:  # an item of the City, delivered with this month's note
        month = today.replace(day=1)
        delivery = deliveries.get((first_hub, month))
        if delivery is not None:
            db.session.add(
                SupplyDeliveryLine(delivery_id=delivery.id, item_id=hygiene.id, quantity=20)
            )
            balance = SupplyBalance(site_id=first_hub, item_id=hygiene.id, on_hand=20)
            db.session.add(balance)
            db.session.flush()
            db.session.add(SupplyMovement(
                balance_id=balance.id, site_id=first_hub, item_id=hygiene.id, kind="delivery",
                quantity=20, balance_after=20, occurred_on=month, delivery_id=delivery.id,
                actor_id=delivery.recorded_by_id, created_at=_at(month, 7)))  # fmt: skip
            movements += 1
    db.session.flush()
    told = review_all_shortages(today)
    return {
        "consegne": len(deliveries),
        "movimenti di scorta": movements,
        "snodi sotto scorta": told,
    }
