"""The offline counter's day key and what its queue sent.

`CounterKey`: the key with which the counter page encrypts the hub's day in the browser
(AES-GCM, WebCrypto). It lives here, sealed with a key derived from SECRET_KEY, and in the open
tab's memory; closing the day or logging out deletes it, so a copy left in the browser's storage
can no longer be read.

`CounterEntry`: one distribution recorded offline and sent when the connection returned, by its
idempotency key (unique per user): sending it again, after a dropped answer or from a second
tab, finds it and changes nothing. Its status says what the server did with it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.distributions.models import Distribution
    from app.households.models import Household
    from app.registry.models import Site

# recorded: a distribution was saved; needs_reason: a second food basket of the month, held for
# the operator to explain or cancel; out_of_stock: the hub's stock says there was none, held
# until a delivery or a count correction is recorded; refused: it could not be applied (the
# household is no longer in charge or not the hub's to see); cancelled: the operator cancelled
# a held entry.
ENTRY_STATUSES = ("recorded", "needs_reason", "out_of_stock", "refused", "cancelled")
HELD = ("needs_reason", "out_of_stock")


class CounterKey(Base):
    __tablename__ = "counter_key"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    key_sealed: Mapped[str] = mapped_column(String(255))
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CounterEntry(Base):
    __tablename__ = "counter_entry"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(
            "status IN ('recorded', 'needs_reason', 'out_of_stock', 'refused', 'cancelled')",
            name="status",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_counter_entry_organization_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # None when the household named is not one the user may see (nothing is kept about it).
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    distributed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # on the phone
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(String(500))
    distribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("distribution.id", ondelete="SET NULL")
    )
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    household: Mapped[Household | None] = relationship()
    site: Mapped[Site | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    distribution: Mapped[Distribution | None] = relationship()

    @property
    def held(self) -> bool:
        return self.status in HELD
