"""Routes of the web layer itself: health check, language choice, accessibility statement."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def safe_next(target: str | None, default: str) -> str:
    """Only paths of this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return default
    return target


@bp.post("/lingua")
def set_language() -> Response:
    language = request.form.get("lang", "it")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
    return redirect(safe_next(request.form.get("next"), url_for("home.index")), code=303)  # type: ignore[return-value]
