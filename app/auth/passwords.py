"""Argon2id password hashing, with rehash on login when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

# RFC 9106 "low memory" profile, above OWASP's minimum (m=19 MiB, t=2, p=1).
DEFAULT_PARAMS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}


def hasher() -> PasswordHasher:
    params = current_app.config.get("PASSWORD_HASH_PARAMS", DEFAULT_PARAMS)
    return PasswordHasher(type=Type.ID, **params)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


_DUMMY: dict[str, str] = {}


def burn_time(password: str) -> None:
    """Spend the time of a real verification, so an unknown username is not faster to refuse."""
    key = repr(current_app.config.get("PASSWORD_HASH_PARAMS", DEFAULT_PARAMS))
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-real-password-at-all")
    verify_password(_DUMMY[key], password)
