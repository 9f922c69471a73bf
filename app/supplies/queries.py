"""What the supply pages read, always from the policy's visible_* selects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.distributions.queries import next_month
from app.extensions import db
from app.registry.models import Site
from app.supplies.models import SupplyBalance, SupplyItem, SupplyMovement
from app.supplies.operations import Cover, daily_use, shortage_threshold
from app.supplies.policy import visible_balances

MOVEMENTS_LIMIT = 200


@dataclass(frozen=True)
class StockRow:
    balance: SupplyBalance
    cover: Cover
    last_delivery_on: date | None
    short: bool

    @property
    def site(self) -> Site:
        return self.balance.site

    @property
    def item(self) -> SupplyItem:
        return self.balance.item


def stock_rows(user: User, day: date, last_delivery: bool = True) -> list[StockRow]:
    """Every hub-and-item balance the user may see: on hand, days of cover, last delivery
    (unless `last_delivery` is False: the home page does not show it)."""
    balances = list(
        db.session.scalars(
            visible_balances(user)
            .join(Site, Site.id == SupplyBalance.site_id)
            .join(SupplyItem, SupplyItem.id == SupplyBalance.item_id)
            .options(
                joinedload(SupplyBalance.site).joinedload(Site.organization),
                joinedload(SupplyBalance.item),
            )
            .order_by(Site.name, Site.id, SupplyItem.distribution_kind.is_(None), SupplyItem.name)
        )
    )
    if not balances:
        return []
    ids = [b.id for b in balances]
    use = daily_use(ids, day)
    last = (
        dict(
            db.session.execute(
                select(SupplyMovement.balance_id, func.max(SupplyMovement.occurred_on))
                .where(SupplyMovement.balance_id.in_(ids), SupplyMovement.kind == "delivery")
                .group_by(SupplyMovement.balance_id)
            ).all()
        )
        if last_delivery
        else {}
    )
    threshold = shortage_threshold()
    rows = []
    for balance in balances:
        cover = Cover(balance.on_hand, use.get(balance.id, 0.0))
        rows.append(StockRow(balance, cover, last.get(balance.id), cover.short(threshold)))
    return rows


def short_rows(user: User, day: date) -> list[StockRow]:
    """The hubs and items whose cover is below the threshold, shortest first."""
    return sorted(
        (row for row in stock_rows(user, day, last_delivery=False) if row.short),
        key=lambda row: (row.cover.days or 0, row.site.name),
    )


def movements(balance: SupplyBalance, limit: int = MOVEMENTS_LIMIT) -> list[SupplyMovement]:
    """The ledger of one hub and item, newest first: who, when, why."""
    return list(
        db.session.scalars(
            select(SupplyMovement)
            .where(SupplyMovement.balance_id == balance.id)
            .options(
                joinedload(SupplyMovement.actor),
                joinedload(SupplyMovement.other_site),
                joinedload(SupplyMovement.delivery),
            )
            .order_by(SupplyMovement.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class ReportRow:
    balance: SupplyBalance
    received: int  # deliveries and transfers in
    given: int  # distributions
    adjusted: int  # damaged, expired, moved away, count corrections (signed)
    on_hand_at_end: int  # everything up to the month's last day


def monthly_report(user: User, month: date) -> list[ReportRow]:
    """Per hub and item, the month's movements by kind and the stock at the month's end."""
    following = next_month(month)
    in_month = (SupplyMovement.occurred_on >= month) & (SupplyMovement.occurred_on < following)
    kind = SupplyMovement.kind

    def total(condition: object) -> object:
        return func.coalesce(func.sum(case((condition, SupplyMovement.quantity), else_=0)), 0)

    visible = visible_balances(user).with_only_columns(SupplyBalance.id)
    rows = db.session.execute(
        select(
            SupplyMovement.balance_id,
            total(in_month & kind.in_(("delivery", "transfer_in"))),
            total(in_month & (kind == "distribution")),
            total(in_month & kind.in_(("adjustment", "transfer_out"))),
            total(SupplyMovement.occurred_on < following),
        )
        .where(SupplyMovement.balance_id.in_(visible), SupplyMovement.occurred_on < following)
        .group_by(SupplyMovement.balance_id)
    ).all()
    balances = {
        b.id: b
        for b in db.session.scalars(
            select(SupplyBalance)
            .where(SupplyBalance.id.in_([r[0] for r in rows]))
            .options(joinedload(SupplyBalance.site), joinedload(SupplyBalance.item))
        )
    }
    report = [
        ReportRow(balances[r[0]], int(r[1]), -int(r[2]), int(r[3]), int(r[4]))
        for r in rows
        if r[0] in balances
    ]
    report.sort(key=lambda r: (r.balance.site.name, r.balance.site_id, r.balance.item.label))
    return report
