"""Account administration, for admins only."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.admin import bp, operations, settings
from app.admin.forms import ROLE_LABELS, NewUserForm, UserForm
from app.auth.models import Role, User
from app.auth.policy import roles_required
from app.extensions import db
from app.i18n import gettext as _
from app.web.fields import bounded_int
from app.web.htmx import render

PAGE_SIZE = 50


def _load_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
@roles_required(Role.ADMIN)
def users() -> Response:
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("ruolo", "")
    page = max(min(bounded_int(request.args.get("pagina")) or 1, 100000), 1)
    query = select(User).order_by(User.username)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like))
        )
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render(
        "admin/users.html",
        "admin/_user_results.html",
        users=rows,
        total=total,
        q=q,
        role=role,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        role_labels=ROLE_LABELS,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user() -> Response:
    form = NewUserForm()
    if form.validate_on_submit():
        user, password = operations.create_user(
            username=form.username.data or "",
            full_name=form.full_name.data or "",
            email=form.email.data or "",
            role=form.role.data or "",
            organization_id=form.organization_value,
        )
        db.session.commit()
        # Shown once, in this response only: never stored in a cookie or a flash message.
        return render("admin/password_shown.html", user=user, password=password, created=True)
    return render("admin/user_form.html", form=form, user=None, status=422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int) -> Response:
    user = _load_user(user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.organization_id.data = str(user.organization_id or "")
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.ADMIN:
            form.role.errors = [_("Non puoi togliere a te stessa/o il ruolo di amministratore.")]
        else:
            changes = operations.update_user(
                user,
                full_name=(form.full_name.data or "").strip(),
                email=(form.email.data or "").strip(),
                role=form.role.data,
                organization_id=form.organization_value,
            )
            db.session.commit()
            flash(
                _("Utente aggiornato.") if changes else _("Nessuna modifica da salvare."), "success"
            )
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)  # type: ignore[return-value]
    return render(
        "admin/user_form.html",
        form=form,
        user=user,
        role_labels=ROLE_LABELS,
        status=422 if form.errors else 200,
    )


@bp.post("/users/<int:user_id>/disable")
@roles_required(Role.ADMIN)
def disable_user(user_id: int) -> Response:
    user = _load_user(user_id)
    if user.id == current_user.id:
        flash(_("Non puoi disattivare il tuo stesso account."), "danger")
    else:
        operations.set_active(user, False)
        db.session.commit()
        flash(
            _("Account di %(name)s disattivato: le sue sessioni sono chiuse.", name=user.full_name),
            "success",
        )
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)  # type: ignore[return-value]


@bp.post("/users/<int:user_id>/enable")
@roles_required(Role.ADMIN)
def enable_user(user_id: int) -> Response:
    user = _load_user(user_id)
    operations.set_active(user, True)
    db.session.commit()
    flash(_("Account di %(name)s riattivato.", name=user.full_name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)  # type: ignore[return-value]


@bp.post("/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int) -> Response:
    user = _load_user(user_id)
    password = operations.reset_password(user)
    db.session.commit()
    return render("admin/password_shown.html", user=user, password=password, created=False)


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings_page() -> Response:
    form = settings.settings_form(request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        changes = settings.save(
            {spec.key: form[spec.key].data for spec in settings.setting_specs()}
        )
        db.session.commit()
        flash(
            _("Impostazioni salvate.") if changes else _("Nessuna modifica da salvare."),
            "success",
        )
        return redirect(url_for("admin.settings_page"), code=303)  # type: ignore[return-value]
    return render(
        "admin/settings.html",
        form=form,
        specs=settings.setting_specs(),
        status=422 if form.errors else 200,
    )
