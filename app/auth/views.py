"""Login (password, then the TOTP code if the user has one), logout and the user's own account."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from app.auth import bp, operations, sso, throttle
from app.auth.forms import (
    ChangePasswordForm,
    DisableTotpForm,
    LoginForm,
    RecoveryCodesForm,
    SecondFactorForm,
    TotpCodeForm,
)
from app.auth.models import PendingLogin, User
from app.auth.sealing import seal, unseal
from app.extensions import db, limiter
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.web.htmx import is_htmx, render
from app.web.transactions import commit_step, finish
from app.web.views import safe_next

# Throttling ---------------------------------------------------------------------------------


def _typed_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _account_key() -> str:
    return f"login-account:{_typed_username()}"


def _refused(response: Response) -> bool:
    """Only refused attempts count: colleagues sharing an office address can still log in."""
    return response.status_code == 422


def _on_throttled(scope: str) -> Callable[[RequestLimit], None]:
    def breach(limit: RequestLimit) -> None:
        operations.record_throttled(_typed_username(), scope)
        commit_step()
        g.retry_after = max(1, int(limit.reset_at - time.time()))

    return breach


def _limit(setting: str) -> Callable[[], str]:
    return lambda: current_app.config[setting]


def _throttled(username: str, scope: str, seconds: int) -> NoReturn:
    """429 with Retry-After (set by app/auth/setup.py from g.retry_after), audited."""
    operations.record_throttled(username, scope)
    commit_step()
    g.retry_after = seconds
    abort(429)


# Login --------------------------------------------------------------------------------------


def _start_session(user: User) -> None:
    """A fresh session for a completed login: nothing carried over, the clocks started."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


# The routes the throttle guards. Every other request skips its hook at once instead of
# resolving the limits of a route that has none (#21).
THROTTLED_ENDPOINTS = frozenset({"auth.login"})


@limiter.request_filter
def _not_throttled() -> bool:
    return request.endpoint not in THROTTLED_ENDPOINTS


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_ADDRESS"),
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_on_throttled("address"),
    exempt_when=throttle.counted_in_database,
)
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_ACCOUNT"),
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_on_throttled("account"),
    exempt_when=throttle.counted_in_database,
)
def login() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    if request.method == "POST" and throttle.counted_in_database():
        blocked = throttle.password_retry_after(_typed_username())
        if blocked is not None:
            _throttled(_typed_username(), *blocked)
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            next_url = safe_next(request.args.get("next"), url_for("home.index"))
            if user.totp_enabled:
                pending = operations.start_pending_login(user)
                commit_step()
                session.clear()  # the second step starts from a fresh session too
                # The wrong codes are counted in the pending login's row, not here: a copy of
                # this cookie replayed later finds the same count, or no pending login at all.
                session["totp_pending"] = {
                    "id": pending.id,
                    "user_id": user.id,
                    "token": user.session_token,
                    "next": next_url,
                }
                return redirect(url_for("auth.login_totp"), code=303)  # type: ignore[return-value]
            operations.complete_login(user)
            commit_step()
            _start_session(user)
            flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
            if user.must_change_password:
                return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
            return redirect(next_url, code=303)  # type: ignore[return-value]
        form.form_errors.append(
            _("Nome utente o password non corretti, oppure account non attivo.")
        )
        # The refused attempt is audited (and counted) even though the answer is a 422.
        return finish(
            render("auth/login.html", form=form, status=422, providers=sso.enabled_providers())
        )
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, status=status, providers=sso.enabled_providers())


def _pending_login(cookie: dict[str, Any] | None) -> tuple[PendingLogin, User] | None:
    """The login halfway through (its row and user), if it is recent and still valid."""
    if not cookie:
        return None
    pending = operations.find_pending_login(cookie.get("id"))
    if pending is None or pending.user_id != cookie.get("user_id"):
        return None
    user = db.session.get(User, pending.user_id)
    if user is None or not user.active or not user.totp_enabled:
        return None
    if user.session_token != cookie.get("token"):
        return None  # logged out or password changed since the first step
    return pending, user


@bp.route("/login/2fa", methods=["GET", "POST"])
def login_totp() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    cookie = session.get("totp_pending")
    found = _pending_login(cookie)
    if found is None or cookie is None:
        session.pop("totp_pending", None)
        flash(_("Accedi con nome utente e password."), "info")
        return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]
    pending, user = found
    if request.method == "POST":
        seconds = throttle.totp_retry_after(user.id)
        if seconds is not None:
            _throttled(user.username, "totp", seconds)
    form = SecondFactorForm()
    if form.validate_on_submit():
        if operations.verify_second_factor(user, form.code.data or ""):
            operations.end_pending_login(pending)
            via = cookie.get("sso")
            if via:
                sso.complete_login(user, via["provider"], via.get("acr"), portal_totp=True)
            else:
                operations.complete_login(user, second_factor=True)
            commit_step()
            next_url = safe_next(cookie.get("next"), url_for("home.index"))
            _start_session(user)
            if via:
                session["sso"] = {"provider": via["provider"], "id_token": via.get("id_token")}
            flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
            if user.must_change_password:
                return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
            return redirect(next_url, code=303)  # type: ignore[return-value]
        ended = operations.second_factor_failed(user, pending)
        commit_step()
        if ended:
            session.pop("totp_pending", None)
            flash(_("Troppi codici errati: accedi di nuovo con nome utente e password."), "danger")
            return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]
        form.code.errors.append(_("Il codice non è corretto o è già stato usato."))
    status = 422 if form.is_submitted() else 200
    return render("auth/login_totp.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout() -> Response:
    via = session.get("sso")
    operations.logout(current_user._get_current_object())
    commit_step()
    logout_user()
    session.clear()
    flash(_("Sei uscita/o dal portale."), "info")
    provider_logout = _provider_logout_url(via)
    if provider_logout:
        if is_htmx():
            # A boosted form's fetch cannot follow a redirect to another origin: htmx navigates.
            response = make_response("", 204)
            response.headers["HX-Redirect"] = provider_logout
        else:
            response = redirect(provider_logout, code=303)  # type: ignore[assignment]
    else:
        response = redirect(url_for("auth.login"), code=303)  # type: ignore[assignment]
    # What the browser kept for this origin (the offline counter's encrypted day and queue,
    # its service worker) goes with the session: nothing stays on a shared phone.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response  # type: ignore[return-value]


def _provider_logout_url(via: object) -> str | None:
    """RP-initiated logout: the provider's end_session_endpoint, where it offers one."""
    if not isinstance(via, dict):
        return None
    client = sso.client(str(via.get("provider")))
    if client is None:
        return None
    try:
        endpoint = client.load_server_metadata().get("end_session_endpoint")
    except sso.LOGIN_ERRORS:
        return None
    if not endpoint:
        return None
    params = {
        "client_id": client.client_id,
        "post_logout_redirect_uri": url_for("auth.login", _external=True),
    }
    if via.get("id_token"):
        params["id_token_hint"] = via["id_token"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


# Single sign-on (app/auth/sso.py) -----------------------------------------------------------

SSO_REFUSALS = {
    "unknown_identity": _l(
        "La tua identità non corrisponde a nessun account del portale. Chiedi "
        "all'amministratore di creare il tuo account con la tua e-mail o il tuo codice fiscale."
    ),
    "ambiguous": _l(
        "La tua identità corrisponde a più account del portale: chiedi all'amministratore di "
        "correggerli."
    ),
    "already_linked": _l(
        "Il tuo account è già collegato a un'altra identità di questo servizio: chiedi "
        "all'amministratore di scollegarla."
    ),
    "disabled": _l("Il tuo account del portale non è attivo: rivolgiti all'amministratore."),
}


@bp.get("/login/sso/<provider>")
def sso_start(provider: str) -> Response:
    """To the provider's login page: Authlib keeps state, nonce and the PKCE verifier here."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    client = sso.client(provider)
    if client is None:
        abort(404)
    next_url = safe_next(request.args.get("next"), url_for("home.index"))
    session["sso_next"] = next_url
    redirect_uri = url_for("auth.sso_callback", provider=provider, _external=True)
    try:
        return client.authorize_redirect(redirect_uri)  # type: ignore[no-any-return]
    except sso.LOGIN_ERRORS as error:
        sso.record_failure(provider, f"discovery: {type(error).__name__}")
        return finish(
            redirect(url_for("auth.login"), code=303),
            _("Il servizio di accesso non risponde: riprova tra poco."),
            "danger",
        )


@bp.get("/login/sso/<provider>/callback")
def sso_callback(provider: str) -> Response:
    client = sso.client(provider)
    if client is None:
        abort(404)
    try:
        # The discovery document must be the configured issuer's (Authlib then checks `iss`).
        issuer = str(client.load_server_metadata().get("issuer", "")).rstrip("/")
        if issuer != sso.configured_issuer(provider):
            raise ValueError(f"issuer mismatch: {issuer}")
        token = client.authorize_access_token(leeway=current_app.config["OIDC_LEEWAY"])
        claims = token.get("userinfo")
        if not claims:
            raise ValueError("no ID token")
    except sso.LOGIN_ERRORS as error:
        sso.record_failure(provider, f"{type(error).__name__}: {error}")
        return finish(
            redirect(url_for("auth.login"), code=303),
            _("Accesso non riuscito: la risposta del servizio di accesso non è valida. Riprova."),
            "danger",
        )
    found = sso.find_account(provider, dict(claims))
    if isinstance(found, sso.Refusal):
        message = SSO_REFUSALS.get(found.reason, SSO_REFUSALS["unknown_identity"])
        return finish(redirect(url_for("auth.login"), code=303), str(message), "danger")
    user = found
    acr = claims.get("acr")
    next_url = safe_next(session.get("sso_next"), url_for("home.index"))
    id_token = token.get("id_token")
    if user.totp_enabled and not sso.second_factor_at_provider(dict(claims)):
        # No second factor at the provider: the portal's own, as after a password.
        pending = operations.start_pending_login(user)
        commit_step()
        session.clear()
        session["totp_pending"] = {
            "id": pending.id,
            "user_id": user.id,
            "token": user.session_token,
            "next": next_url,
            "sso": {"provider": provider, "acr": acr, "id_token": id_token},
        }
        return redirect(url_for("auth.login_totp"), code=303)  # type: ignore[return-value]
    provider_mfa = sso.second_factor_at_provider(dict(claims))
    sso.complete_login(user, provider, acr, provider_mfa=provider_mfa)
    commit_step()
    _start_session(user)
    session["sso"] = {"provider": provider, "id_token": id_token, "mfa": provider_mfa}
    flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
    return redirect(next_url, code=303)  # type: ignore[return-value]


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


# The forms other packages add to the account page (the notifications' e-mail choice): name in
# the template -> a builder from the user. Registered by those packages at import, so auth imports
# none of them.
ACCOUNT_FORMS: dict[str, Callable[[User], Any]] = {}


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        refused = operations.change_own_password(
            user, form.current_password.data or "", form.new_password.data or ""
        )
        commit_step()
        if refused is None:
            login_user(user)  # this session carries the new token; the others are over
            flash(_("Password cambiata. Le altre sessioni aperte sono state chiuse."), "success")
            return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
        if refused == "reused":
            form.new_password.errors.append(
                _(
                    "La nuova password deve essere diversa da quella attuale e dalle ultime "
                    "%(n)d che hai usato.",
                    n=current_app.config["PASSWORD_HISTORY"],
                )
            )
        else:
            form.current_password.errors.append(_("La password attuale non è corretta."))
    status = 422 if form.errors else 200
    extras = {name: build(current_user) for name, build in ACCOUNT_FORMS.items()}
    return render("auth/account.html", form=form, status=status, **extras)


# Two-factor enrolment ---------------------------------------------------------------------


def totp_required(user: User) -> bool:
    return bool(current_app.config["TOTP_REQUIRED_FOR_CITY"]) and user.is_city_staff


def _totp_page(
    user: User,
    form: TotpCodeForm | None,
    disable_form: DisableTotpForm | None,
    status: int,
    codes_form: RecoveryCodesForm | None = None,
) -> Response:
    context: dict[str, Any] = {
        "form": form,
        "disable_form": disable_form,
        "codes_form": codes_form,
        "required": totp_required(user),
    }
    if user.totp_enabled:
        # New recovery codes wait, sealed, in the session for this one page: shown once.
        sealed = session.pop("recovery_codes", None)
        shown = unseal(sealed) if sealed else None
        context["new_codes"] = shown.split() if shown else []
        context["codes_left"] = len(operations.unused_recovery_codes(user))
    else:
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
        return _totp_page(user, None, DisableTotpForm(), 200, RecoveryCodesForm())
    if not session.get("totp_enrolment") or unseal(session["totp_enrolment"]) is None:
        # The secret waits, sealed, in the session until a code proves the app has it.
        session["totp_enrolment"] = seal(operations.new_totp_secret())
    form = TotpCodeForm()
    if form.validate_on_submit():
        if operations.enable_totp(
            user, unseal(session["totp_enrolment"]) or "", form.code.data or ""
        ):
            codes = operations.generate_recovery_codes(user)
            commit_step()
            session.pop("totp_enrolment", None)
            session["recovery_codes"] = seal(" ".join(codes))
            flash(_("Verifica in due passaggi attivata."), "success")
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        commit_step()
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
            return finish(
                redirect(url_for("auth.totp_setup"), code=303),
                _("Verifica in due passaggi disattivata."),
                "info",
            )
        commit_step()
        form.password.errors.append(_("La password attuale non è corretta."))
    return _totp_page(user, None, form, 422, RecoveryCodesForm())


@bp.post("/account/2fa/recovery-codes")
@login_required
def recovery_codes() -> Response:
    """New recovery codes (the old ones stop working), after the password: shown once."""
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        codes = operations.regenerate_recovery_codes(user, form.codes_password.data or "")
        commit_step()
        if codes is not None:
            session["recovery_codes"] = seal(" ".join(codes))
            return redirect(url_for("auth.totp_setup"), code=303)  # type: ignore[return-value]
        form.codes_password.errors.append(_("La password attuale non è corretta."))
    disable_form = None if totp_required(user) else DisableTotpForm(formdata=None)
    return _totp_page(user, None, disable_form, 422, form)
