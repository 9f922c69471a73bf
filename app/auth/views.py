"""Login (password, then the TOTP code if the user has one), logout and the user's own account."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from app.audit.operations import record
from app.auth import bp, operations
from app.auth.forms import ChangePasswordForm, DisableTotpForm, LoginForm, TotpCodeForm
from app.auth.models import User
from app.auth.sealing import seal, unseal
from app.extensions import db, limiter
from app.i18n import gettext as _
from app.web.htmx import render
from app.web.views import safe_next

# Throttling ---------------------------------------------------------------------------------


def _typed_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _account_key() -> str:
    return f"login-account:{_typed_username()}"


def _pending_key() -> str:
    pending = session.get("totp_pending") or {}
    return f"login-totp:{pending.get('user_id', '')}"


def _refused(response: Response) -> bool:
    """Only refused attempts count: colleagues sharing an office address can still log in."""
    return response.status_code == 422 or bool(g.get("totp_failed"))


def _on_throttled(scope: str) -> Callable[[RequestLimit], None]:
    def breach(limit: RequestLimit) -> None:
        username = _typed_username() or (session.get("totp_pending") or {}).get("username", "")
        operations.record_throttled(username, scope)
        db.session.commit()
        g.retry_after = max(1, int(limit.reset_at - time.time()))

    return breach


def _limit(setting: str) -> Callable[[], str]:
    return lambda: current_app.config[setting]


# Login --------------------------------------------------------------------------------------


def _start_session(user: User) -> None:
    """A fresh session for a completed login: nothing carried over, the clocks started."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_ADDRESS"),
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_on_throttled("address"),
)
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_ACCOUNT"),
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_on_throttled("account"),
)
def login() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            next_url = safe_next(request.args.get("next"), url_for("home.index"))
            if user.totp_enabled:
                db.session.commit()
                session.clear()  # the second step starts from a fresh session too
                session["totp_pending"] = {
                    "user_id": user.id,
                    "token": user.session_token,
                    "username": user.username,
                    "at": int(time.time()),
                    "attempts": 0,
                    "next": next_url,
                }
                return redirect(url_for("auth.login_totp"), code=303)  # type: ignore[return-value]
            operations.complete_login(user)
            db.session.commit()
            _start_session(user)
            flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
            if user.must_change_password:
                return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
            return redirect(next_url, code=303)  # type: ignore[return-value]
        db.session.commit()
        form.form_errors.append(
            _("Nome utente o password non corretti, oppure account non attivo.")
        )
        return render("auth/login.html", form=form, status=422)
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, status=status)


def _pending_user(pending: dict[str, Any] | None) -> User | None:
    """The user halfway through logging in, if that login is recent and still valid."""
    if not pending:
        return None
    age = time.time() - pending.get("at", 0)
    if age > current_app.config["TOTP_PENDING_MINUTES"] * 60:
        return None
    user = db.session.scalar(select(User).where(User.id == pending.get("user_id")))
    if user is None or not user.active or not user.totp_enabled:
        return None
    if user.session_token != pending.get("token"):
        return None  # logged out or password changed since the first step
    return user


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit(
    _limit("TOTP_LIMIT_PER_ACCOUNT"),
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_on_throttled("totp"),
)
def login_totp() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    pending = session.get("totp_pending")
    user = _pending_user(pending)
    if user is None or pending is None:
        session.pop("totp_pending", None)
        flash(_("Accedi con nome utente e password."), "info")
        return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]
    form = TotpCodeForm()
    if form.validate_on_submit():
        if operations.verify_totp(user, form.code.data or ""):
            operations.complete_login(user, second_factor=True)
            db.session.commit()
            next_url = safe_next(pending.get("next"), url_for("home.index"))
            _start_session(user)
            flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
            if user.must_change_password:
                return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
            return redirect(next_url, code=303)  # type: ignore[return-value]
        g.totp_failed = True
        attempts = int(pending.get("attempts", 0)) + 1
        if attempts >= current_app.config["TOTP_MAX_ATTEMPTS"]:
            record("totp_attempts_exhausted", user, actor=user)
            db.session.commit()
            session.pop("totp_pending", None)
            flash(_("Troppi codici errati: accedi di nuovo con nome utente e password."), "danger")
            return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]
        db.session.commit()
        session["totp_pending"] = {**pending, "attempts": attempts}
        form.code.errors.append(_("Il codice non è corretto o è già stato usato."))
    status = 422 if form.is_submitted() else 200
    return render("auth/login_totp.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout() -> Response:
    operations.logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Sei uscita/o dal portale."), "info")
    return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]


@bp.get("/account/logged-in-again")
@login_required
def logged_in_again() -> Response:
    """Where a login made from an expired form's message lands: back to the other tab."""
    return render("auth/logged_in_again.html")


@bp.get("/account/csrf-token")
def csrf_token() -> Response:
    """A fresh form token for a page that outlived its session.

    After a login in another tab (which starts a new session) the forms still open carry the
    old token; the page's script asks for the new one here and saves what the user typed.
    Same-origin only: nothing on another site can read this answer.
    """
    if not current_user.is_authenticated:
        response = jsonify(error=_("La sessione è scaduta: accedi di nuovo per continuare."))
        response.status_code = 401
    else:
        response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        changed = operations.change_own_password(
            user, form.current_password.data or "", form.new_password.data or ""
        )
        db.session.commit()
        if changed:
            login_user(user)  # this session carries the new token; the others are over
            flash(_("Password cambiata. Le altre sessioni aperte sono state chiuse."), "success")
            return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
        form.current_password.errors.append(_("La password attuale non è corretta."))
    status = 422 if form.errors else 200
    return render("auth/account.html", form=form, status=status)


# Two-factor enrolment ---------------------------------------------------------------------


def totp_required(user: User) -> bool:
    return bool(current_app.config["TOTP_REQUIRED_FOR_CITY"]) and user.is_city_staff


def _totp_page(
    user: User, form: TotpCodeForm | None, disable_form: DisableTotpForm | None, status: int
) -> Response:
    context: dict[str, Any] = {
        "form": form,
        "disable_form": disable_form,
        "required": totp_required(user),
    }
    if not user.totp_enabled:
        secret = unseal(session["totp_enrolment"]) or ""
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr"] = operations.totp_qr_data_uri(operations.totp_uri(user, secret))
    return render("auth/totp.html", status=status, **context)


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required
def totp_setup() -> Response:
    user = current_user._get_current_object()
    if user.totp_enabled:
        if request.method == "POST":
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        return _totp_page(user, None, DisableTotpForm(), 200)
    if not session.get("totp_enrolment") or unseal(session["totp_enrolment"]) is None:
        # The secret waits, sealed, in the session until a code proves the app has it.
        session["totp_enrolment"] = seal(operations.new_totp_secret())
    form = TotpCodeForm()
    if form.validate_on_submit():
        if operations.enable_totp(
            user, unseal(session["totp_enrolment"]) or "", form.code.data or ""
        ):
            db.session.commit()
            session.pop("totp_enrolment", None)
            flash(_("Verifica in due passaggi attivata."), "success")
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        db.session.commit()
        form.code.errors.append(_("Il codice non è corretto: controlla l'ora del telefono."))
    status = 422 if form.is_submitted() else 200
    return _totp_page(user, form, None, status)


@bp.post("/account/2fa/disable")
@login_required
def totp_disable() -> Response:
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
    if totp_required(user):
        flash(_("Per il tuo ruolo la verifica in due passaggi è obbligatoria."), "warning")
        return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
    form = DisableTotpForm()
    if form.validate_on_submit():
        if operations.disable_totp(user, form.password.data or ""):
            db.session.commit()
            flash(_("Verifica in due passaggi disattivata."), "info")
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        db.session.commit()
        form.password.errors.append(_("La password attuale non è corretta."))
    return _totp_page(user, None, form, 422)
