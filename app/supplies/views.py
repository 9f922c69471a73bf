"""The hubs' stock: load → check → act, one commit. Stock figures are not personal data, so
the pages write no view event; every change is audited in its operation."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from app import idempotency
from app.audit.operations import commit_view
from app.auth.policy import roles_required
from app.clock import today
from app.distributions.queries import (
    month_links,
    month_start,
    parse_month,
)
from app.errors import DomainError
from app.exports import list_response
from app.extensions import db
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.notifications.operations import mark_read
from app.registry.models import Site
from app.supplies import bp, operations, queries
from app.supplies.forms import AdjustmentForm, DeliveryForm, ItemForm
from app.supplies.models import SupplyBalance, SupplyItem
from app.supplies.policy import (
    READERS,
    can_define_items,
    can_record_supplies,
    visible_balances,
    visible_hubs,
)
from app.supplies.vocabulary import MOVEMENT_KINDS, REASONS
from app.web.htmx import render
from app.web.transactions import commit_step, finish, roll_back

CHART_CAP_DAYS = 30  # the chart's bars are drawn up to a month of cover


def _hubs() -> list[Site]:
    return list(db.session.scalars(visible_hubs(current_user).order_by(Site.name, Site.id)))


def _recorder_hubs_or_403() -> list[Site]:
    if not can_record_supplies(current_user):
        abort(403)
    return _hubs()


def _items() -> list[SupplyItem]:
    """The standard kinds first, then the City's items (active ones only). The standard ones
    are made on first use and committed at once, before the request's own transaction (the
    idempotency claim must be its first write)."""
    present = db.session.scalar(
        select(func.count())
        .select_from(SupplyItem)
        .where(SupplyItem.distribution_kind.is_not(None))
    )
    if present != len(DISTRIBUTION_KINDS):
        operations.standard_items()
        commit_step()
    return list(
        db.session.scalars(
            select(SupplyItem)
            .where(SupplyItem.active.is_(True))
            .order_by(SupplyItem.distribution_kind.is_(None), SupplyItem.distribution_kind,
                      SupplyItem.name)
        )
    )  # fmt: skip


def _site_choices(sites: list[Site]) -> list[SelectChoice]:
    options = [SelectChoice(s.id, s.name) for s in sites]  # type: ignore[arg-type]
    if len(sites) != 1:
        options.insert(0, SelectChoice("", _("Scegli lo snodo")))  # type: ignore[arg-type]
    return options


def _item_choices(items: list[SupplyItem]) -> list[SelectChoice]:
    return (
        [SelectChoice("", _("Scegli l'articolo"))]
        + [  # type: ignore[arg-type]
            SelectChoice(i.id, i.label[:1].upper() + i.label[1:])  # type: ignore[arg-type]
            for i in items
        ]
    )


# Pages ----------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> Response:
    rows = queries.stock_rows(current_user, today())
    city = can_define_items(current_user)
    widest = max((min(r.cover.days or 0, CHART_CAP_DAYS) for r in rows), default=0) or 1
    return render(
        "supplies/index.html",
        rows=rows,
        city=city,
        recorder=can_record_supplies(current_user),
        threshold=operations.shortage_threshold(),
        chart_cap=CHART_CAP_DAYS,
        widest=widest,
        month=month_start(today()),
    )


@bp.get("/stock/<int:balance_id>")
@roles_required(*READERS)
def movements(balance_id: int) -> Response:
    balance = db.session.scalar(
        visible_balances(current_user).where(SupplyBalance.id == balance_id)
    )
    if balance is None:
        abort(404)
    # Opening the stock reads the user's shortage notices about it.
    mark_read(current_user, SupplyBalance.__tablename__, balance.id)
    commit_view()
    return render(
        "supplies/movements.html",
        balance=balance,
        movements=queries.movements(balance),
        kinds=MOVEMENT_KINDS,
        reasons=REASONS,
    )


def _delivery_form(sites: list[Site], items: list[SupplyItem], **kwargs: Any) -> DeliveryForm:
    form = DeliveryForm(**kwargs)
    form.site_id.choices = _site_choices(sites)  # type: ignore[assignment]
    if form.site_id.data is None and len(sites) == 1:
        form.site_id.data = sites[0].id
    for line in form.lines:
        line.item_id.choices = _item_choices(items)  # type: ignore[assignment]
    form.delivered_on.render_kw = {"max": today().isoformat()}
    return form


@bp.route("/deliveries/new", methods=["GET", "POST"])
@roles_required(*READERS)
def new_delivery() -> Response:
    sites = _recorder_hubs_or_403()
    items = _items()
    form = _delivery_form(sites, items)
    if form.validate_on_submit():
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, "supply_delivery")
        if earlier is not None:
            return finish(redirect(earlier.result_url or url_for("supplies.index"), code=303))
        site = next(s for s in sites if s.id == form.site_id.data)
        by_id = {i.id: i for i in items}
        lines = [
            (by_id[line.item_id.data], line.quantity.data)
            for line in form.lines
            if line.item_id.data and line.quantity.data
        ]
        try:
            delivery = operations.record_delivery(
                site, form.note_number.data, form.delivered_on.data, lines, current_user
            )
        except DomainError as refused:
            roll_back()
            form.note_number.errors = [refused.message]
        else:
            idempotency.complete(
                key, current_user, "supply_delivery", delivery, url_for("supplies.index")
            )
            return finish(
                redirect(url_for("supplies.index"), code=303),
                _(
                    "Consegna registrata: documento di trasporto n. %(number)s allo snodo "
                    "%(site)s.",
                    number=delivery.note_number,
                    site=site.name,
                ),
            )
    status = 422 if request.method == "POST" else 200
    return render("supplies/delivery.html", status=status, form=form)


def _adjustment_form(sites: list[Site], items: list[SupplyItem], **kwargs: Any) -> AdjustmentForm:
    form = AdjustmentForm(**kwargs)
    form.site_id.choices = _site_choices(sites)  # type: ignore[assignment]
    if form.site_id.data is None and len(sites) == 1:
        form.site_id.data = sites[0].id
    form.item_id.choices = _item_choices(items)  # type: ignore[assignment]
    others = db.session.scalars(
        select(Site).where(Site.is_hub.is_(True)).order_by(Site.name, Site.id)
    ).all()
    form.to_site_id.choices = [SelectChoice("", _("Nessuno"))] + [  # type: ignore[assignment]
        SelectChoice(s.id, s.name)  # type: ignore[arg-type]
        for s in others
    ]
    form.occurred_on.render_kw = {"max": today().isoformat()}
    return form


@bp.route("/adjustments/new", methods=["GET", "POST"])
@roles_required(*READERS)
def new_adjustment() -> Response:
    sites = _recorder_hubs_or_403()
    items = _items()
    form = _adjustment_form(sites, items)
    if form.validate_on_submit():
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, "supply_adjustment")
        if earlier is not None:
            return finish(redirect(earlier.result_url or url_for("supplies.index"), code=303))
        site = next(s for s in sites if s.id == form.site_id.data)
        item = next(i for i in items if i.id == form.item_id.data)
        to_site = (
            db.session.get(Site, form.to_site_id.data)
            if form.reason.data == "transferred"
            else None
        )
        try:
            movement = operations.record_adjustment(
                site,
                item,
                form.reason.data,
                form.quantity.data,
                form.occurred_on.data,
                current_user,
                form.note.data,
                to_site,
            )
        except DomainError as refused:
            roll_back()
            form.quantity.errors = [refused.message]
        else:
            url = url_for("supplies.movements", balance_id=movement.balance_id)
            idempotency.complete(key, current_user, "supply_adjustment", movement, url)
            return finish(
                redirect(url, code=303),
                _(
                    "Rettifica registrata: %(item)s allo snodo %(site)s, %(quantity)s.",
                    item=item.label,
                    site=site.name,
                    quantity=f"{movement.quantity:+d}",
                ),
            )
    status = 422 if request.method == "POST" else 200
    return render("supplies/adjustment.html", status=status, form=form)


# The monthly report -------------------------------------------------------------------------


@bp.get("/report")
@roles_required(*READERS)
def report() -> Response:
    month = parse_month(request.args.get("mese"), today())
    return render(
        "supplies/report.html",
        rows=queries.monthly_report(current_user, month),
        **month_links(month, today()),
    )


def _report_export(kind: str) -> Response:
    month = parse_month(request.args.get("mese"), today())
    rows = queries.monthly_report(current_user, month)
    header = [
        _("Mese"), _("Snodo"), _("Ente"), _("Articolo"), _("Ricevuto"), _("Distribuito"),
        _("Rettifiche"), _("Disponibile a fine mese"),
    ]  # fmt: skip
    body: list[list[Any]] = [
        [
            month.strftime("%m/%Y"),
            r.balance.site.name,
            r.balance.site.organization.name,
            r.balance.item.label,
            r.received,
            r.given,
            r.adjusted,
            r.on_hand_at_end,
        ]
        for r in rows
    ]
    from app.audit.operations import record

    record(
        "supply_report_exported",
        None,
        {"month": month.strftime("%Y-%m"), "rows": len(body), "format": kind},
    )
    return finish(
        list_response(
            kind, f"scorte-{month.strftime('%Y-%m')}", _("Scorte degli snodi"), header, body
        )
    )


@bp.get("/report.csv")
@roles_required(*READERS)
def report_csv() -> Response:
    return _report_export("csv")


@bp.get("/report.xlsx")
@roles_required(*READERS)
def report_xlsx() -> Response:
    return _report_export("xlsx")


# The City's items -----------------------------------------------------------------------------


@bp.route("/items", methods=["GET", "POST"])
@roles_required(*READERS)
def items() -> Response:
    if not can_define_items(current_user):
        abort(403)
    form = ItemForm()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, "supply_item")
        if earlier is not None:
            return finish(redirect(url_for("supplies.items"), code=303))
        try:
            item = operations.define_item(form.name.data, current_user)
        except DomainError as refused:
            roll_back()
            form.name.errors = [refused.message]
        else:
            idempotency.complete(key, current_user, "supply_item", item, url_for("supplies.items"))
            return finish(
                redirect(url_for("supplies.items"), code=303),
                _("Articolo aggiunto: %(name)s.", name=item.name),
            )
    status = 422 if request.method == "POST" else 200
    listed = _items()
    return render("supplies/items.html", status=status, form=form, items=listed)
