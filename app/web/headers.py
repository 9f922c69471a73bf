"""Security headers on every response; no caching of pages once a user is logged in."""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_login import current_user

# The Bootstrap Italia 2.18.3 bundle injects two <style> elements at load (one empty): they are
# allowed by their exact hashes, so style-src needs no 'unsafe-inline'. A new vendored version
# that injects other styles shows up as a CSP error in the browser tests.
BOOTSTRAP_ITALIA_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-wPXhisdsFu1DtHYH1D9W5isSGqS5vIPn6QJWSNLqfCM='",
)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' " + " ".join(BOOTSTRAP_ITALIA_STYLE_HASHES),
        # When htmx swaps a row back in, it copies the old element's style attribute onto the
        # new one, and Bootstrap Italia leaves empty ones (style=""). Only the empty value is
        # allowed: no real inline style can pass.
        "style-src-attr 'unsafe-hashes' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if g.get("revalidated"):
        pass  # revalidated(): a page without personal data, kept only to be asked again
    elif not request.path.startswith("/static/") and (
        current_user.is_authenticated or response.mimetype == "text/html"
    ):
        # Pages may hold personal data: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def revalidated(response: Response, etag: str) -> Response:
    """An answer WITHOUT personal data that the browser may keep, but only to ask again each
    time with its tag (`If-None-Match`), so that an unchanged one is answered "304 Not
    Modified" with no body (the housing board's refresh, #21). Never for personal data: those
    pages are `no-store` (above)."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "HX-Request", "HX-Target"))
    g.revalidated = True
    return response


def register_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
