"""An export prepared by the background worker for one user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

KEPT_FOR = timedelta(hours=24)


def _expiry() -> datetime:
    return utcnow() + KEPT_FOR


class ExportFile(Base):
    __tablename__ = "export_file"
    __table_args__ = (Index("ix_export_file_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(32))  # what is exported: "households"
    kind: Mapped[str] = mapped_column(String(8))  # "csv" or "xlsx"
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the list's filters
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued running ready failed
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str | None] = mapped_column(String(200))
    mimetype: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The households the file shows: named in the audit event of each download.
    household_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_expiry)

    @property
    def percent(self) -> int:
        if self.status == "ready":
            return 100
        if not self.rows_total:
            return 0
        return min(int(self.rows_done * 100 / self.rows_total), 99)
