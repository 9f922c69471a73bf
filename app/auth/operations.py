"""Authentication and account state changes: mutate, audit, flush; the view commits."""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
import qrcode
import qrcode.image.svg
from blinker import Namespace
from flask import current_app
from sqlalchemy import delete, func, select, update

from app.audit.operations import record
from app.auth import throttle
from app.auth.models import PasswordHistory, PendingLogin, RecoveryCode, User
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
        throttle.record_failure("password", username=name)
        return None
    if not verify_password(user.password_hash, password):
        record(
            "login_failed",
            user,
            {"username": user.username, "reason": "wrong_password"},
            actor=user,
        )
        throttle.record_failure("password", username=name, user_id=user.id)
        return None
    if not user.active:
        record("login_failed", user, {"username": user.username, "reason": "disabled"}, actor=user)
        throttle.record_failure("password", username=name, user_id=user.id)
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
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


# The second step of a login, kept on the server -----------------------------------------------


def start_pending_login(user: User) -> PendingLogin:
    """The password was right: a pending login awaits the second factor (its id goes in the
    session). Pending logins past their time are deleted on the way."""
    minutes = current_app.config["TOTP_PENDING_MINUTES"]
    db.session.execute(
        delete(PendingLogin).where(
            PendingLogin.created_at < throttle.now() - timedelta(minutes=minutes)
        )
    )
    pending = PendingLogin(user_id=user.id, created_at=throttle.now(), failures=0)
    db.session.add(pending)
    db.session.flush()
    return pending


def find_pending_login(pending_id: object) -> PendingLogin | None:
    """The pending login if it exists and is recent: one that ended or expired is gone."""
    if not isinstance(pending_id, int):
        return None
    pending = db.session.get(PendingLogin, pending_id)
    if pending is None:
        return None
    age = throttle.now() - pending.created_at
    if age > timedelta(minutes=current_app.config["TOTP_PENDING_MINUTES"]):
        return None
    return pending


def end_pending_login(pending: PendingLogin) -> None:
    db.session.execute(delete(PendingLogin).where(PendingLogin.id == pending.id))
    db.session.flush()


def second_factor_failed(user: User, pending: PendingLogin) -> bool:
    """Count a wrong code for the user and for this pending login, and audit it.

    Returns True when the pending login has had its last try and is ended. The count is one
    UPDATE, so two requests of the same pending login at once both count.
    """
    db.session.execute(
        update(PendingLogin)
        .where(PendingLogin.id == pending.id)
        .values(failures=PendingLogin.failures + 1)
    )
    failures = db.session.scalar(select(PendingLogin.failures).where(PendingLogin.id == pending.id))
    record("totp_failed", user, {"attempt": failures}, actor=user)
    throttle.record_failure("totp", username=user.username, user_id=user.id)
    if failures is None or failures >= current_app.config["TOTP_MAX_ATTEMPTS"]:
        record("totp_attempts_exhausted", user, actor=user)
        end_pending_login(pending)
        return True
    db.session.flush()
    return False


# Recovery codes: one-time replacements of the TOTP code for a lost phone ----------------------

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def is_recovery_code_shaped(code: str) -> bool:
    value = normalise_recovery_code(code)
    return len(value) == RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH and all(
        ch in RECOVERY_ALPHABET for ch in value
    )


def new_recovery_code() -> str:
    """Twelve characters of a 31-letter alphabet (about 59 bits), as three groups of four."""
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
        for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


def unused_recovery_codes(user: User) -> list[RecoveryCode]:
    return list(
        db.session.scalars(
            select(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
            .order_by(RecoveryCode.id)
        )
    )


def generate_recovery_codes(user: User) -> list[str]:
    """New codes replace every earlier one; only their hashes are stored, the caller shows
    them once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(current_app.config["RECOVERY_CODE_COUNT"])]
    for code in codes:
        db.session.add(
            RecoveryCode(
                user_id=user.id,
                code_hash=hash_password(normalise_recovery_code(code)),
                created_at=utcnow(),
            )
        )
    record("recovery_codes_generated", user, {"count": len(codes)}, actor=user)
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User, password: str) -> list[str] | None:
    """New codes from the account page, after the password; None if the password is wrong."""
    if not verify_password(user.password_hash, password):
        record("recovery_codes_failed", user, actor=user)
        db.session.flush()
        return None
    return generate_recovery_codes(user)


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once: marking it used is a conditional UPDATE, so the
    same code sent twice at once logs in only once."""
    if not is_recovery_code_shaped(code):
        return False
    value = normalise_recovery_code(code)
    for row in unused_recovery_codes(user):
        if verify_password(row.code_hash, value):
            result = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            remaining = len(unused_recovery_codes(user))
            record("recovery_code_used", user, {"remaining": remaining}, actor=user)
            db.session.flush()
            return True
    return False


def verify_second_factor(user: User, code: str) -> bool:
    """A TOTP code, or one of the user's recovery codes."""
    if is_recovery_code_shaped(code):
        return use_recovery_code(user, code)
    return verify_totp(user, code)


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
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("totp_disabled", user, actor=user)
    db.session.flush()
    return True


# Sent by logout() inside its transaction: what other packages keep for the user's session
# (the offline counter's day key) ends with it. Receivers get the user and only flush.
session_ended = Namespace().signal("session-ended")


def logout(user: User) -> None:
    """End every session of this login: old copies of the cookie stop working."""
    user.rotate_session_token()
    session_ended.send(user)
    record("logout", user, actor=user)
    db.session.flush()


def previous_password_hashes(user: User) -> list[str]:
    """The current password's hash and those of the last PASSWORD_HISTORY before it."""
    older = db.session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(current_app.config["PASSWORD_HISTORY"])
    )
    return [user.password_hash, *older]


def is_reused_password(user: User, password: str) -> bool:
    return any(verify_password(old, password) for old in previous_password_hashes(user))


def change_own_password(user: User, current_password: str, new_password: str) -> str | None:
    """Change the password; None when done, else why not: "wrong_current" or "reused" (the
    new one is the current password, a temporary one included, or one of the last few)."""
    if not verify_password(user.password_hash, current_password):
        record("password_change_failed", user, actor=user)
        return "wrong_current"
    if is_reused_password(user, new_password):
        record("password_change_failed", user, {"reason": "reused"}, actor=user)
        return "reused"
    db.session.add(
        PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=utcnow())
    )
    db.session.flush()
    kept = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
    kept = kept.order_by(PasswordHistory.id.desc()).limit(current_app.config["PASSWORD_HISTORY"])
    db.session.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.rotate_session_token()  # other sessions end; the view logs this one in again
    record("password_changed", user, actor=user)
    db.session.flush()
    return None
