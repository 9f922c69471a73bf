"""User administration: every change audited in the same transaction."""

from __future__ import annotations

import secrets

from app.audit.operations import diff, record
from app.auth.models import User
from app.auth.passwords import hash_password
from app.extensions import db

USER_FIELDS = ("full_name", "email", "role", "organization_id")


def temporary_password() -> str:
    """Readable, 16 characters, shown once to the admin; the user must change it at first login."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))


def create_user(
    *, username: str, full_name: str, email: str, role: str, organization_id: int | None
) -> tuple[User, str]:
    password = temporary_password()
    user = User(
        username=username.strip().lower(),
        full_name=full_name.strip(),
        email=email.strip(),
        role=role,
        organization_id=organization_id,
        password_hash=hash_password(password),
        must_change_password=True,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user_created",
        user,
        {"username": user.username, "role": role, "organization_id": organization_id},
    )
    return user, password


def update_user(user: User, **values: object) -> dict[str, list[object]]:
    changes = diff(user, {k: values[k] for k in USER_FIELDS})
    for field in changes:
        setattr(user, field, values[field])
    if "role" in changes or "organization_id" in changes:
        user.rotate_session_token()  # new rights start with a new login
    if changes:
        record("user_updated", user, changes)
    db.session.flush()
    return changes


def set_active(user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    if not active:
        user.rotate_session_token()
    record("user_enabled" if active else "user_disabled", user, {"active": [not active, active]})
    db.session.flush()


def reset_password(user: User) -> str:
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.rotate_session_token()
    record("user_password_reset", user)
    db.session.flush()
    return password
