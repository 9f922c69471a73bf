"""A notification for one user, about one object, read or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboundEmail(Base):
    """An e-mail that a notification asks to be sent: written in the same transaction as the
    notification (so it exists only if the step was saved), sent afterwards by the background
    worker or after the response; `sent_at` set once the SMTP server took it."""

    __tablename__ = "outbound_email"
    __table_args__ = (Index("ix_outbound_email_pending", "sent_at", "mode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    notification: Mapped[Notification] = relationship()
    mode: Mapped[str] = mapped_column(String(16))  # "immediate" or "digest"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
