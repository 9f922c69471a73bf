"""Account administration, for admins only."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app import idempotency
from app.admin import bp, operations, settings
from app.admin.forms import (
    REQUEST_KINDS,
    REQUEST_STATUSES,
    ROLE_LABELS,
    EditUserForm,
    NewUserForm,
    RefusalForm,
    UnlinkForm,
)
from app.admin.models import AccountChangeRequest
from app.auth import sso
from app.auth.models import Role, SsoIdentity, User
from app.auth.policy import roles_required
from app.extensions import db
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications.operations import mark_read
from app.registry.models import Organization
from app.web.fields import bounded_int
from app.web.htmx import render
from app.web.transactions import finish, roll_back

PAGE_SIZE = 50
NEW_USER = "new_user"


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


def _see_other(endpoint: str, **values: object) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user() -> Response:
    form = NewUserForm()
    key = form.idempotency_key.data if form.is_submitted() else None
    # Before validating: the form sent again would find its own username taken.
    earlier = idempotency.claim(key, current_user, NEW_USER)
    if earlier is not None:
        # The password, if any, was shown to the first submission only.
        flash(_("Questo modulo era già stato inviato: la richiesta è registrata."), "success")
        return redirect(earlier.result_url or url_for("admin.users"), code=303)  # type: ignore[return-value]
    if form.validate_on_submit():
        values = {
            "username": form.username.data or "",
            "full_name": form.full_name.data or "",
            "email": form.email.data or "",
            "role": form.role.data or "",
            "organization_id": form.organization_value,
            "fiscal_code": form.fiscal_code.data or None,
        }
        if operations.needs_confirmation(None, values["role"], values["organization_id"]):
            change = operations.request_creation(current_user, **values)
            url = url_for("admin.account_request", request_id=change.id)
            idempotency.complete(key, current_user, NEW_USER, change, url)
            return finish(
                redirect(url, code=303),
                _(
                    "Richiesta inviata ai coordinatori della Città: l'account sarà creato "
                    "quando uno di loro la conferma."
                ),
            )
        user, password = operations.create_user(**values)
        idempotency.complete(
            key, current_user, NEW_USER, user, url_for("admin.edit_user", user_id=user.id)
        )
        # Shown once, in this response only: never stored in a cookie or a flash message.
        return finish(
            render(
                "admin/password_shown.html",
                user=user,
                password=password,
                created=True,
                back_url=url_for("admin.edit_user", user_id=user.id),
            )
        )
    if form.is_submitted():
        roll_back()  # the key stays unused: the corrected form may be sent again
    return render("admin/user_form.html", form=form, user=None, status=422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int) -> Response:
    user = _load_user(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None, user=user)
    if request.method == "GET":
        form.organization_id.data = str(user.organization_id or "")
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.ADMIN:
            form.role.errors = [_("Non puoi togliere a te stessa/o il ruolo di amministratore.")]
        else:
            role, organization_id = form.role.data or "", form.organization_value
            direct = {
                "full_name": (form.full_name.data or "").strip(),
                "email": (form.email.data or "").strip(),
                "fiscal_code": form.fiscal_code.data or None,
            }
            identity = operations.identity_changes(
                user, role, bool(sso.enabled_providers()), **direct
            )
            for field in identity:
                del direct[field]
            new_rights = operations.needs_confirmation(user, role, organization_id)
            asked = new_rights or bool(identity)
            if not new_rights:
                direct.update(role=role, organization_id=organization_id)
            changes = operations.update_user(user, **direct)
            if asked:
                operations.request_update(
                    user,
                    current_user,
                    role=role if new_rights else user.role,
                    organization_id=organization_id if new_rights else user.organization_id,
                    identity=identity,
                )
            messages: list[tuple[str, str]] = []
            if asked:
                messages.append(
                    (
                        _(
                            "Il cambio di ruolo o di ente dà accesso ai dati dei nuclei: è stato "
                            "chiesto ai coordinatori della Città, e vale quando uno di loro lo "
                            "conferma."
                        )
                        if new_rights
                        else _(
                            "Email e codice fiscale collegano l'accesso unico (SSO, SPID, CIE) a "
                            "questo account: il cambio è stato chiesto ai coordinatori della "
                            "Città, e vale quando uno di loro lo conferma."
                        ),
                        "warning",
                    )
                )
            if changes or not asked:
                messages.append(
                    (
                        _("Utente aggiornato.") if changes else _("Nessuna modifica da salvare."),
                        "success",
                    )
                )
            return finish(_see_other("admin.edit_user", user_id=user.id), more=messages)
    return render(
        "admin/user_form.html",
        form=form,
        user=user,
        role_labels=ROLE_LABELS,
        pending=operations.pending_requests_for(user),
        request_kinds=REQUEST_KINDS,
        status=422 if form.errors else 200,
    )


@bp.post("/users/<int:user_id>/disable")
@roles_required(Role.ADMIN)
def disable_user(user_id: int) -> Response:
    user = _load_user(user_id)
    back = redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    if user.id == current_user.id:
        flash(_("Non puoi disattivare il tuo stesso account."), "danger")
        return back  # type: ignore[return-value]
    operations.set_active(user, False)
    return finish(
        back,
        _("Account di %(name)s disattivato: le sue sessioni sono chiuse.", name=user.full_name),
    )


@bp.post("/users/<int:user_id>/enable")
@roles_required(Role.ADMIN)
def enable_user(user_id: int) -> Response:
    user = _load_user(user_id)
    operations.set_active(user, True)
    return finish(
        redirect(url_for("admin.edit_user", user_id=user.id), code=303),
        _("Account di %(name)s riattivato.", name=user.full_name),
    )


@bp.post("/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int) -> Response:
    user = _load_user(user_id)
    if operations.sees_households(user.role):
        operations.request_password_reset(user, current_user)
        return finish(
            _see_other("admin.edit_user", user_id=user.id),
            _(
                "Nuova password provvisoria chiesta ai coordinatori della Città: chi la conferma "
                "la riceve e la comunica alla persona."
            ),
        )
    password = operations.reset_password(user)
    return finish(
        render(
            "admin/password_shown.html",
            user=user,
            password=password,
            created=False,
            back_url=url_for("admin.edit_user", user_id=user.id),
        )
    )


# Requests that wait for a coordinator's confirmation ------------------------------------------


def _load_request(request_id: int) -> AccountChangeRequest:
    change = db.session.get(AccountChangeRequest, request_id)
    if change is None:
        abort(404)
    return change


@bp.get("/requests")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def account_requests() -> Response:
    status = request.args.get("stato", "pending")
    query = select(AccountChangeRequest).options(
        selectinload(AccountChangeRequest.user),
        selectinload(AccountChangeRequest.requested_by),
        selectinload(AccountChangeRequest.decided_by),
    )
    if status in ("pending", "confirmed", "refused"):
        query = query.where(AccountChangeRequest.status == status)
    else:
        status = ""
    rows = db.session.scalars(
        query.order_by(AccountChangeRequest.requested_at.desc()).limit(PAGE_SIZE)
    ).all()
    return render(
        "admin/requests.html",
        requests=rows,
        shown=status,
        request_kinds=REQUEST_KINDS,
        request_statuses=REQUEST_STATUSES,
    )


def _request_page(change: AccountChangeRequest, form: RefusalForm, status: int = 200) -> Response:
    organization_id = change.requested_values.get("organization_id")
    return render(
        "admin/request.html",
        change=change,
        form=form,
        organization=db.session.get(Organization, organization_id) if organization_id else None,
        role_labels=ROLE_LABELS,
        request_kinds=REQUEST_KINDS,
        request_statuses=REQUEST_STATUSES,
        may_decide=change.status == "pending" and operations.may_decide(change, current_user),
        status=status,
    )


@bp.get("/requests/<int:request_id>")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def account_request(request_id: int) -> Response:
    change = _load_request(request_id)
    marked = mark_read(current_user, AccountChangeRequest.__tablename__, change.id)
    page = _request_page(change, RefusalForm(formdata=None))
    return finish(page) if marked else page


@bp.post("/requests/<int:request_id>/confirm")
@roles_required(Role.COORDINATOR)
def confirm_request(request_id: int) -> Response:
    change = _load_request(request_id)
    form = RefusalForm()
    if not form.validate_on_submit():
        return _request_page(change, form, 422)
    user, password = operations.confirm(change, current_user)
    if password is None:
        return finish(
            _see_other("admin.account_request", request_id=change.id),
            _("Richiesta confermata: l'account è aggiornato."),
        )
    # Shown once, to the confirming coordinator only: the admin never sees it.
    return finish(
        render(
            "admin/password_shown.html",
            user=user,
            password=password,
            created=change.kind == "create",
            back_url=url_for("admin.account_request", request_id=change.id),
        )
    )


@bp.post("/requests/<int:request_id>/refuse")
@roles_required(Role.COORDINATOR)
def refuse_request(request_id: int) -> Response:
    change = _load_request(request_id)
    form = RefusalForm()
    if not form.validate_on_submit():
        return _request_page(change, form, 422)
    operations.refuse(change, current_user, (form.reason.data or "").strip() or None)
    return finish(
        _see_other("admin.account_request", request_id=change.id),
        _("Richiesta respinta: l'account non cambia."),
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings_page() -> Response:
    form = settings.settings_form(request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        changes = settings.save(
            {spec.key: form[spec.key].data for spec in settings.setting_specs()}
        )
        return finish(
            redirect(url_for("admin.settings_page"), code=303),
            _("Impostazioni salvate.") if changes else _("Nessuna modifica da salvare."),
        )
    return render(
        "admin/settings.html",
        form=form,
        specs=settings.setting_specs(),
        status=422 if form.errors else 200,
    )


# Single sign-on: the identities linked to accounts (issue #23) -------------------------------

SSO_PROVIDER_LABELS = {"city": _l("Account della Città"), "spid": _l("SPID / CIE")}


@bp.get("/sso")
@roles_required(Role.ADMIN)
def linked_identities() -> Response:
    return render(
        "admin/linked_identities.html",
        identities=sso.linked_identities(),
        provider_labels=SSO_PROVIDER_LABELS,
        enabled=sso.enabled_providers(),
        form=UnlinkForm(),
    )


@bp.post("/sso/<int:identity_id>/unlink")
@roles_required(Role.ADMIN)
def unlink_identity(identity_id: int) -> Response:
    identity = db.session.get(SsoIdentity, identity_id)
    if identity is None:
        abort(404)
    form = UnlinkForm()
    if not form.validate_on_submit():
        abort(400)
    username = identity.user.username
    sso.unlink(identity)
    return finish(
        _see_other("admin.linked_identities"),
        _("Identità scollegata dall'account %(username)s.", username=username),
    )
