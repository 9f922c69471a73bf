"""The user's notifications: the list and marking all read. Opening the object a notification
is about (the referral page) marks it read."""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from app.audit.operations import record
from app.auth.models import Role
from app.auth.policy import roles_required
from app.auth.views import ACCOUNT_FORMS
from app.db import utcnow
from app.extensions import db
from app.i18n import gettext as _
from app.notifications import bp
from app.notifications.forms import EmailPreferenceForm
from app.notifications.labels import target_url, text
from app.notifications.models import Notification
from app.web.htmx import render
from app.web.transactions import finish

PAGE_SIZE = 25
# Roles that get notifications (housing providers will, for placements).
RECIPIENTS = (Role.COORDINATOR, Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER)
# The account page (auth) shows the e-mail choice; auth imports no domain, so it is handed over.
ACCOUNT_FORMS["email_form"] = lambda user: EmailPreferenceForm(formdata=None, obj=user)


@bp.get("/")
@roles_required(*RECIPIENTS)
def index() -> Response:
    mine = select(Notification).where(Notification.user_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("pagina", 1, type=int) or 1, 1), pages)
    rows = db.session.scalars(
        mine.order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render(
        "notifications/index.html",
        notifications=[(n, text(n), target_url(n)) for n in rows],
        total=total,
        page=page,
        pages=pages,
    )


@bp.post("/read-all")
@roles_required(*RECIPIENTS)
def read_all() -> Response:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return finish(
        redirect(url_for("notifications.index"), code=303),
        _("Tutte le notifiche sono segnate come lette."),
    )


@bp.post("/email")
@roles_required(*RECIPIENTS)
def email_preference() -> Response:
    """Immediate, daily digest or no e-mail for the notifications that ask the user to act."""
    from app.auth.forms import ChangePasswordForm

    form = EmailPreferenceForm()
    user = current_user._get_current_object()
    if not form.validate_on_submit():
        return render(
            "auth/account.html", form=ChangePasswordForm(formdata=None), email_form=form, status=422
        )
    chosen = form.email_notifications.data
    if chosen != user.email_notifications:
        record(
            "email_preference_changed",
            user,
            {"email_notifications": [user.email_notifications, chosen]},
        )
        user.email_notifications = chosen
    return finish(redirect(url_for("auth.account"), code=303), _("Scelta sulle e-mail salvata."))
