"""User accounts and roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime

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
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

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
