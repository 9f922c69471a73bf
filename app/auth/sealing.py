"""Secrets the server must be able to read back (the TOTP key) are stored sealed.

Authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from SECRET_KEY:
a copy of the database, a backup or a session cookie alone does not reveal the key of anyone's
authenticator app. Rotating SECRET_KEY therefore means re-enrolling two-factor authentication.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def box(purpose: bytes) -> Fernet:
    """Fernet with a key derived from SECRET_KEY for one purpose: keys of two purposes differ,
    so a token made for one is refused by the other."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"reti-inclusione: " + purpose
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _box() -> Fernet:
    return box(b"sealed secrets")


def seal(text: str) -> str:
    return _box().encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str | None:
    """The sealed text, or None when the token was not sealed with this portal's key."""
    try:
        return _box().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
