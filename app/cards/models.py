"""The household card: an opaque, revocable token printed as a QR code (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.households.models import Household
    from app.registry.models import Organization, Site

REVOKE_REASONS = ("lost", "stolen", "damaged", "other")


class HouseholdCard(Base):
    """One printed card of a household. At most one card per household is active (not revoked).

    The token is 160 random bits in base32 (A-Z, 2-7): it fits the QR code's alphanumeric mode
    and survives a USB scanner typing it under any keyboard layout or with caps lock on. The
    portal finds a card by `token_hash` (sha256 of the token) and keeps the token itself only
    sealed (`token_sealed`, Fernet with a key derived from SECRET_KEY), so that the card can be
    printed again: a copy of the database alone yields no usable token.
    """

    __tablename__ = "household_card"
    __table_args__ = (
        CheckConstraint(
            "revoke_reason IS NULL OR revoke_reason IN ('lost', 'stolen', 'damaged', 'other')",
            name="revoke_reason",
        ),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoke_reason IS NULL)", name="revoked_with_reason"
        ),
        # One active card per household: two colleagues issuing at once leave one.
        Index(
            "uq_household_card_active",
            "household_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoke_reason: Mapped[str | None] = mapped_column(String(16))
    revoke_note: Mapped[str | None] = mapped_column(String(500))

    household: Mapped[Household] = relationship()
    organization: Mapped[Organization] = relationship()
    site: Mapped[Site] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def number(self) -> str:
        """The number printed on the card: not the household's, so it says nothing of it."""
        return f"{self.id:07d}"
