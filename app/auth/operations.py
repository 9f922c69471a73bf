"""Authentication and account state changes: mutate, audit, flush; the view commits."""

from __future__ import annotations

import base64
import hmac
import time

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from sqlalchemy import func, select

from app.audit.operations import record
from app.auth.models import User
from app.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from app.auth.sealing import seal, unseal
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
    db.session.flush()
    return user


def complete_login(user: User, *, second_factor: bool = False) -> None:
    """Every factor is checked: the login happens."""
    user.last_login_at = utcnow()
    record("login", user, {"second_factor": True} if second_factor else None, actor=user)
    db.session.flush()


def record_throttled(username: str, scope: str) -> None:
    """A login attempt refused by the throttling, before the password was even checked."""
    record("login_throttled", changes={"username": username.strip().lower()[:64], "scope": scope})


# Two-factor authentication (TOTP, RFC 6238: 6 digits, 30-second steps) -----------------------

TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and the next code too: phones' clocks drift


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name=current_app.config["TOTP_ISSUER"]
    )


def totp_qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an inline SVG image, drawn here: no external service sees it."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def matching_totp_step(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step whose code is `code`, if it is recent and newer than the last one used."""
    code = code.strip()
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // TOTP_STEP_SECONDS)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue  # already used, or older than a code already used: no replay
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


def verify_totp(user: User, code: str) -> bool:
    """Check the code of a user's second factor; an accepted code cannot be used again."""
    secret = unseal(user.totp_secret) if user.totp_secret is not None else None
    if secret is None:
        return False
    step = matching_totp_step(secret, code, user.totp_last_step)
    if step is None:
        record("totp_failed", user, actor=user)
        db.session.flush()
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def enable_totp(user: User, secret: str, code: str) -> bool:
    """Turn two factors on once the user proves the app produces the right codes."""
    step = matching_totp_step(secret, code, None)
    if step is None:
        record("totp_enable_failed", user, actor=user)
        db.session.flush()
        return False
    user.totp_secret = seal(secret)
    user.totp_last_step = step
    record("totp_enabled", user, actor=user)
    db.session.flush()
    return True


def disable_totp(user: User, password: str) -> bool:
    if not verify_password(user.password_hash, password):
        record("totp_disable_failed", user, actor=user)
        db.session.flush()
        return False
    user.totp_secret = None
    user.totp_last_step = None
    record("totp_disabled", user, actor=user)
    db.session.flush()
    return True


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
