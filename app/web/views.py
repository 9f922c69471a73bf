"""Routes of the web layer itself: health check, language choice, accessibility statement."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from flask import (
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import text

from app.extensions import db
from app.web import bp


@bp.get("/accessibilita")
def accessibility() -> str:
    """The accessibility statement (AgID model): public, like the statement of any PA site."""
    return render_template("web/accessibility.html")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


def _hostile(value: str) -> bool:
    return "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def safe_next(target: str | None, default: str) -> str:
    """Only plain paths of this site: no scheme, no host, no protocol-relative or backslash
    tricks, and none hidden behind dot segments (`/..//evil`) or percent-encoding (`/%2F%2F`).

    The path must already be in normal form (what posixpath.normpath makes of it, with its
    trailing slash): the portal's own links always are, so anything else is refused.
    """
    if not target:
        return default
    target = target.strip()
    if _hostile(target) or _hostile(unquote(target)):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    for path in (parts.path, unquote(parts.path)):
        normal = posixpath.normpath(path)
        if path.endswith("/") and normal != "/":
            normal += "/"
        if normal != path or path.startswith("//"):
            return default
    return target


@bp.post("/lingua")
def set_language() -> Response:
    language = request.form.get("lang", "it")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
    return redirect(safe_next(request.form.get("next"), url_for("home.index")), code=303)  # type: ignore[return-value]
