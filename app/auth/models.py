"""User accounts and roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.registry.models import Organization


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    ENTITY_OPERATOR = "entity_operator"
    HOUSING_PROVIDER = "housing_provider"
    ADMIN = "admin"

    @property
    def needs_organization(self) -> bool:
        return self in (Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('coordinator', 'entity_operator', 'housing_provider', 'admin')",
            name="role",
        ),
        CheckConstraint(
            "(role IN ('entity_operator', 'housing_provider')) = (organization_id IS NOT NULL)",
            name="organization_for_role",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Identifies the user's login sessions: the session cookie carries it, and rotating it
    # (logout, password change, disabling) makes every copy of an old cookie worthless.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP second factor: the base32 secret (stored in clear for now; encrypting it at rest is a
    # follow-up) and the last accepted time step, so a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed: app/auth/sealing.py
    # E-mail for notifications that ask the user to act: "immediate", "digest" (daily) or "none".
    email_notifications: Mapped[str] = mapped_column(
        String(16), default="immediate", server_default="immediate"
    )
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The codice fiscale that links a SPID/CIE identity to this account (16 characters, upper).
    fiscal_code: Mapped[str | None] = mapped_column(String(16), unique=True)

    organization: Mapped[Organization | None] = relationship(lazy="joined")

    # Flask-Login protocol ------------------------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    # Roles ------------------------------------------------------------------------------------
    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_city_staff(self) -> bool:
        """Coordinators and administrators: the accounts that must use two factors if required."""
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class PendingLogin(Base):
    """A login whose password was right and whose second factor is still awaited.

    The session cookie carries only its id: the wrong codes are counted here, so replaying a
    cookie captured before the failures gives no new tries, and the row's end is final.
    """

    __tablename__ = "pending_login"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class AuthFailure(Base):
    """A refused password or second-factor code: the throttling counter every process shares.

    Rows older than a day are deleted as new ones arrive; the audit log keeps the history.
    """

    __tablename__ = "auth_failure"
    __table_args__ = (
        CheckConstraint("kind IN ('password', 'totp')", name="kind"),
        Index("ix_auth_failure_kind_username_created", "kind", "username", "created_at"),
        Index("ix_auth_failure_kind_address_created", "kind", "ip_address", "created_at"),
        Index("ix_auth_failure_kind_user_created", "kind", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ip_address: Mapped[str | None] = mapped_column(String(45))


class RecoveryCode(Base):
    """A one-time code that replaces the TOTP code of a user who lost the phone; hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordHistory(Base):
    """The hashes of a user's previous passwords, so a new password cannot be an old one."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SsoIdentity(Base):
    """An identity at an OpenID provider linked to an account (issue #23).

    Made at the first single sign-on whose link claim (e-mail or codice fiscale) matches the
    account; then the provider's subject alone finds it. Unlinking deletes it.
    """

    __tablename__ = "sso_identity"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))  # "city" or "spid"
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_acr: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(lazy="joined")
