"""The hubs' stock: items, delivery notes, and the movement ledger with one balance row per hub
and item.

On hand is the sum of a hub's movements for an item. `SupplyBalance.on_hand` keeps that sum,
written only by `operations._move()` in the transaction of the movement it adds (never by a
form): it is the row that concurrent counters lock, and its CHECK keeps it from going below zero
even if a code path forgot the lock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import Base, UTCDateTime, utcnow
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.registry.models import Site

MOVEMENT_KINDS = ("delivery", "distribution", "adjustment", "transfer_in", "transfer_out")
REASONS = ("damaged", "expired", "transferred", "count_correction")


class SupplyItem(Base):
    """What a hub stocks: the two distribution kinds (`distribution_kind` set, one row each)
    and the items the City defines (`distribution_kind` empty)."""

    __tablename__ = "supply_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    distribution_kind: Mapped[str | None] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def label(self) -> str:
        """The kinds in the user's language; the City's items as the City named them."""
        if self.distribution_kind in DISTRIBUTION_KINDS:
            return str(DISTRIBUTION_KINDS[self.distribution_kind])
        return self.name


class SupplyBalance(Base):
    """One hub and one item: the row concurrent writers lock, with the sum of its movements."""

    __tablename__ = "supply_balance"
    __table_args__ = (
        UniqueConstraint("site_id", "item_id", name="uq_supply_balance_site_item"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_item.id", ondelete="RESTRICT"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the hub's cover fell below the threshold and people were told; cleared when it
    # is back above: one notice per shortage episode.
    short_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    site: Mapped[Site] = relationship()
    item: Mapped[SupplyItem] = relationship()


class SupplyDelivery(Base):
    """A delivery note (documento di trasporto) from the City's central logistics."""

    __tablename__ = "supply_delivery"
    __table_args__ = (
        UniqueConstraint("site_id", "note_number", name="uq_supply_delivery_site_note"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    note_number: Mapped[str] = mapped_column(String(40))
    delivered_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site: Mapped[Site] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    lines: Mapped[list[SupplyDeliveryLine]] = relationship(
        back_populates="delivery", order_by="SupplyDeliveryLine.id"
    )


class SupplyDeliveryLine(Base):
    __tablename__ = "supply_delivery_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("supply_delivery.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_item.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)

    delivery: Mapped[SupplyDelivery] = relationship(back_populates="lines")
    item: Mapped[SupplyItem] = relationship()


class SupplyMovement(Base):
    """One change of a hub's stock of an item, signed: + in (delivery, transfer in, a count
    correction up), - out (distribution, damaged, expired, transfer out, a correction down)."""

    __tablename__ = "supply_movement"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('delivery', 'distribution', 'adjustment', 'transfer_in', 'transfer_out')",
            name="kind",
        ),
        CheckConstraint(
            "reason IS NULL OR reason IN ('damaged', 'expired', 'transferred', 'count_correction')",
            name="reason",
        ),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
        Index("ix_supply_movement_balance_day", "balance_id", "occurred_on"),
        Index("ix_supply_movement_site_day", "site_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    balance_id: Mapped[int] = mapped_column(ForeignKey("supply_balance.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_item.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("supply_delivery.id", ondelete="SET NULL")
    )
    # The distribution it gave out: kept (without it) when the household is removed.
    distribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("distribution.id", ondelete="SET NULL"), index=True
    )
    other_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    other_site: Mapped[Site | None] = relationship(foreign_keys=[other_site_id])
    item: Mapped[SupplyItem] = relationship()
    actor: Mapped[User | None] = relationship()
    delivery: Mapped[SupplyDelivery | None] = relationship()
