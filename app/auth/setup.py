"""Wire Flask-Login to the user table through the revocable session token."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.extensions import db, login_manager
from app.i18n import gettext as _
from app.web.errors import unauthorized_response
from app.web.versions import restore, snapshot, versioned

PASSWORD_CHANGE_EXEMPT = {
    "auth.account",
    "auth.csrf_token",
    "auth.logout",
    "static",
    "web.healthz",
    "web.set_language",
}
TOTP_ENROLMENT_EXEMPT = PASSWORD_CHANGE_EXEMPT | {"auth.totp_setup"}
# The session's last activity is written at most this often: the idle timeout (minutes) is
# measured to within a minute, and a session unchanged is not sent again with every answer.
SEEN_EVERY_SECONDS = 60


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The user of the session, with their organization: kept by the process while no user or
    organization has changed (app/web/versions.py), read from the database otherwise."""
    loaded: list[User] = []

    def fetch() -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        user = db.session.scalar(
            select(User)
            .where(User.session_token == session_token)
            # The header never shows the accreditation: read only where a page asks for it.
            .options(joinedload(User.organization).lazyload("*"))
        )
        if user is None or not user.active:
            return None  # logged out elsewhere, password changed or account disabled
        loaded.append(user)
        organization = user.organization
        return snapshot(user), snapshot(organization) if organization is not None else None

    kept = versioned("users", ("user", session_token), fetch)
    if loaded:
        return loaded[0]
    if kept is None:
        return None
    user_values, organization_values = kept
    organization = None
    if organization_values is not None:
        organization = restore(_organization_model(), organization_values)
    return restore(User, user_values, organization=organization)


def _organization_model() -> type:
    """The user's organization's class, known to auth only through the relationship (auth is
    shared core and imports no domain)."""
    return sa_inspect(User).relationships["organization"].mapper.class_  # type: ignore[no-any-return]


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    flash(_("Accedi per continuare."), "info")
    return unauthorized_response()


def register_auth(app: Flask) -> None:
    from app.auth.sso import register_sso

    register_sso(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @app.before_request
    def end_stale_session() -> Response | None:
        """Idle timeout and absolute lifetime: past either, the login is over."""
        if request.endpoint == "static" or "_user_id" not in session:
            return None
        now = int(time.time())
        login_at = session.get("login_at")
        seen_at = session.get("seen_at")
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if (
            not isinstance(login_at, int)
            or not isinstance(seen_at, int)
            or now - seen_at > idle
            or now - login_at > lifetime
        ):
            logout_user()
            session.clear()
            if not request.path.startswith("/api/"):  # the API answers 401 JSON, no page
                flash(_("La sessione è scaduta: accedi di nuovo per continuare."), "info")
            return unauthorized_response()
        if now - seen_at >= SEEN_EVERY_SECONDS:
            # Not every request: a session left unchanged is not signed and sent again (#21).
            session["seen_at"] = now
        return None

    @app.before_request
    def force_password_change() -> Response | None:
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and "sso" not in session  # a single sign-on used no password of the portal
            and request.endpoint not in PASSWORD_CHANGE_EXEMPT
        ):
            flash(_("Prima di continuare scegli una nuova password."), "warning")
            return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
        return None

    @app.before_request
    def force_totp_enrolment() -> Response | None:
        if (
            app.config["TOTP_REQUIRED_FOR_CITY"]
            and current_user.is_authenticated
            and current_user.is_city_staff
            and not current_user.totp_enabled
            and not session.get("sso", {}).get("mfa")  # a second factor at the provider
            and request.endpoint not in TOTP_ENROLMENT_EXEMPT
        ):
            flash(_("Prima di continuare attiva la verifica in due passaggi."), "warning")
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        return None

    @app.after_request
    def retry_after(response: Response) -> Response:
        """A throttled login says when to try again (g.retry_after, set by app/auth/views.py)."""
        if response.status_code == 429 and "retry_after" in g:
            response.headers["Retry-After"] = str(g.retry_after)
        return response
