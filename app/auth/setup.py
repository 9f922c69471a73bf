"""Wire Flask-Login to the user table through the revocable session token."""

from __future__ import annotations

from flask import Flask, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db, login_manager
from app.web.errors import unauthorized_response

PASSWORD_CHANGE_EXEMPT = {
    "auth.account",
    "auth.logout",
    "static",
    "web.healthz",
    "web.set_language",
}


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.active:
        return None  # logged out elsewhere, password changed or account disabled
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    flash(_("Accedi per continuare."), "info")
    return unauthorized_response()


def register_auth(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @app.before_request
    def force_password_change() -> Response | None:
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_EXEMPT
        ):
            flash(_("Prima di continuare scegli una nuova password."), "warning")
            return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
        return None
