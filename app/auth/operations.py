"""Authentication and account state changes: mutate, audit, flush; the view commits."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.operations import record
from app.auth.models import User
from app.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from app.db import utcnow
from app.extensions import db


def authenticate(username: str, password: str) -> User | None:
    """The user if the credentials are right and the account is active; else None.

    Unknown user, wrong password and disabled account look alike to the caller and take
    about the same time. Every outcome is audited.
    """
    name = username.strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.username) == name))
    if user is None:
        burn_time(password)
        record("login_failed", changes={"username": name[:64], "reason": "unknown_user"})
        return None
    if not verify_password(user.password_hash, password):
        record(
            "login_failed",
            user,
            {"username": user.username, "reason": "wrong_password"},
            actor=user,
        )
        return None
    if not user.active:
        record("login_failed", user, {"username": user.username, "reason": "disabled"}, actor=user)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record("login", user, actor=user)
    db.session.flush()
    return user


def logout(user: User) -> None:
    """End every session of this login: old copies of the cookie stop working."""
    user.rotate_session_token()
    record("logout", user, actor=user)
    db.session.flush()


def change_own_password(user: User, current_password: str, new_password: str) -> bool:
    if not verify_password(user.password_hash, current_password):
        record("password_change_failed", user, actor=user)
        return False
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.rotate_session_token()  # other sessions end; the view logs this one in again
    record("password_changed", user, actor=user)
    db.session.flush()
    return True
