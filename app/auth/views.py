"""Login, logout and the user's own account."""

from __future__ import annotations

from flask import Response, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, operations
from app.auth.forms import ChangePasswordForm, LoginForm
from app.extensions import db
from app.web.htmx import render
from app.web.views import safe_next


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))  # type: ignore[return-value]
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.username.data or "", form.password.data or "")
        db.session.commit()
        if user is not None:
            next_url = safe_next(request.args.get("next"), url_for("home.index"))
            session.clear()  # a fresh session at login: nothing carried over from before
            login_user(user)
            session.permanent = True
            flash(_("Benvenuta/o, %(name)s.", name=user.full_name), "success")
            if user.must_change_password:
                return redirect(url_for("auth.account"), code=303)  # type: ignore[return-value]
            return redirect(next_url, code=303)  # type: ignore[return-value]
        form.form_errors.append(
            _("Nome utente o password non corretti, oppure account non attivo.")
        )
        return render("auth/login.html", form=form, status=422)
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout() -> Response:
    operations.logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Sei uscita/o dal portale."), "info")
    return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]


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
