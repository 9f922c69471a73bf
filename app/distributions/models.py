"""The hubs' distribution log: what each household received, where, when and from whom."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.households.models import Household
    from app.registry.models import Site


class Distribution(Base):
    __tablename__ = "distribution"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kind IN ('food_basket', 'basic_necessities')", name="kind"),
        Index("ix_distribution_household_date", "household_id", "distributed_on"),
        Index("ix_distribution_site_date", "site_id", "distributed_on"),
        Index("ix_distribution_distributed_on", "distributed_on"),
        # The month's counts per hub and kind read this index alone, not the table.
        Index("ix_distribution_month_counts", "distributed_on", "site_id", "kind", "quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    distributed_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    override_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    household: Mapped[Household] = relationship()
    site: Mapped[Site] = relationship()
    operator: Mapped[User | None] = relationship()
