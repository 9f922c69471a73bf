"""A search's text in a URL as an opaque, short-lived token, never in clear.

A codice fiscale (or a surname) typed in a search box would otherwise reach the access logs of
the web server and of the proxy, and the browser's history. Search forms send the text by POST
(CSRF-protected); the URL of the answer (the redirect, or htmx's `HX-Push-Url`) carries
`cerca=<token>` instead: the text and the user's id, encrypted and authenticated (Fernet) with a
key derived from SECRET_KEY, readable for TOKEN_SECONDS. Back, reload and the page's links keep
working; the token tells nothing to whoever reads a log, and another account cannot use it.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from app.auth.sealing import box

TOKEN_SECONDS = 8 * 3600  # a working day: Back and reload work, an old copied URL does not


def _box() -> Fernet:
    return box(b"search tokens")


def search_token(text: str, user_id: int) -> str:
    return _box().encrypt(json.dumps([user_id, text]).encode()).decode("ascii")


def search_text(token: str | None, user_id: int) -> str:
    """The text of a token this user received in the last TOKEN_SECONDS; else empty."""
    if not token:
        return ""
    try:
        owner, text = json.loads(_box().decrypt(token.encode("ascii"), ttl=TOKEN_SECONDS))
    except (InvalidToken, ValueError, TypeError):
        return ""
    return text if owner == user_id and isinstance(text, str) else ""
