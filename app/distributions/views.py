"""The hubs' distribution log: find the household, record what was given, see the list and the
month's counts. Operators of a hub record; the City reads; other roles have no business here."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app import idempotency
from app.audit import operations as audit
from app.auth.models import Role
from app.auth.policy import roles_required
from app.cards.operations import normalised_token, token_hash
from app.cards.policy import scanned_card
from app.clock import today
from app.distributions import bp, operations
from app.distributions.forms import DistributionForm, optional_int
from app.distributions.models import Distribution
from app.distributions.queries import (
    FINDER_SHOWS,
    MIN_QUERY_LENGTH,
    find_households,
    hub_sites,
    last_distributions,
    log_distributions,
    month_links,
    month_start,
    monthly_counts,
    next_month,
    normalised_query,
    parse_month,
    recent_distributions,
    visible_hub_organizations,
)
from app.errors import DomainError
from app.exports import ROW_LIMIT
from app.extensions import db
from app.households.models import Household
from app.households.policy import can_record_distributions, visible_household_or_404
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.registry.models import Site
from app.supplies.operations import OutOfStock
from app.web.formatting import format_date
from app.web.htmx import push_url, render, wants_fragment
from app.web.list_export import Column, export_list
from app.web.search_token import search_text, search_token
from app.web.transactions import finish, roll_back

READERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)
PAGE = "distributions/index.html"
PURPOSE = "distribution"


# Helpers ------------------------------------------------------------------------------------


def _recorder_sites_or_403() -> list[Site]:
    """Recording is for operators of a hub organization; the City and others only read."""
    if not can_record_distributions(current_user):
        abort(403)
    return hub_sites(current_user)


def _mode(sites: list[Site]) -> str:
    if current_user.has_role(Role.COORDINATOR):
        return "city"
    if not can_record_distributions(current_user):
        return "no_hub"
    return "recorder" if sites else "no_sites"


def _new_form(sites: list[Site], household: Household | None = None, **kwargs: Any) -> Any:
    form = DistributionForm(**kwargs)
    form.site_id.choices = [SelectChoice(s.id, s.name) for s in sites]  # type: ignore[arg-type]
    if len(sites) > 1:
        form.site_id.choices.insert(0, SelectChoice("", _("Scegli lo snodo")))  # type: ignore[arg-type]
    if form.site_id.data is None and len(sites) == 1:
        form.site_id.data = sites[0].id
    if household is not None and not form.household_id.data:
        form.household_id.data = str(household.id)
    form.distributed_on.render_kw = {"max": today().isoformat()}
    return form


def _month_context(month: Any) -> dict[str, Any]:
    return {
        **month_links(month, today()),
        "counts": monthly_counts(current_user, month),
    }


def _household_history(household: Household | None) -> tuple[Any, bool]:
    if household is None:
        return None, False
    return last_distributions(current_user, [household.id], today()).get(
        household.id, (None, False)
    )


def _audit_shown(action: str, context: dict[str, Any]) -> None:
    """One audit event naming the households this answer shows: the finder's hits, the chosen
    household, the one just served and the recent distributions (when the answer has them)."""
    hits = context.get("hits") or []
    households = [hit.household for hit in hits]
    households += [
        context[key] for key in ("household", "saved_household") if context.get(key) is not None
    ]
    households += [d.household_id for d in context.get("recent") or []]
    # The finder's hits show a little of each family (FINDER_SHOWS): the event says what.
    audit.record_views(action, households, changes={"shown": FINDER_SHOWS} if hits else None)


def _respond(
    fragment: str | None, status: int = 200, action: str = "distributions_listed", **context: Any
) -> Response:
    """The fragment for a partial htmx request; else the whole page, which includes it.

    The households it shows are an audit event (`action`), committed here: the requests that
    come here (pages, fragments, a refused form) have nothing else to save."""
    context.setdefault("kinds", DISTRIBUTION_KINDS)
    context.setdefault("min_query_length", MIN_QUERY_LENGTH)
    if fragment is None or not wants_fragment():
        if "sites" not in context:
            context["sites"] = hub_sites(current_user)
        sites = context["sites"]
        mode = context.setdefault("mode", _mode(sites))
        if mode == "recorder" and "form" not in context:
            context["form"] = _new_form(sites)
        context.setdefault("q", "")
        context.setdefault("hits", None)
        context.setdefault("recent", recent_distributions(current_user))
        if "counts" not in context:
            context.update(_month_context(parse_month(request.args.get("mese"), today())))
        context.setdefault("household", None)
    if "household" in context and "history" not in context:
        context["history"] = _household_history(context["household"])
    _audit_shown(action, context)
    audit.commit_view()
    return render(PAGE, fragment, status=status, **context)


def _posted_household() -> Household | None:
    """The household named in the form: None when missing, 404 when not the user's to see."""
    raw = (request.form.get("household_id") or "").strip()
    if not raw:
        return None
    household_id = optional_int(raw)
    if not household_id or household_id < 1:
        abort(404)
    return visible_household_or_404(current_user, household_id)


def _ask_reason(form: Any, previous: list[Distribution]) -> list[dict[str, Any]]:
    """The reason field becomes required; returns the warning listing the baskets already
    given that month, naming the hub where the registry shows it."""
    form.override_reason.flags.required = True
    form.override_reason.render_kw = {"autofocus": True}
    shown = visible_hub_organizations(current_user, {d.organization_id for d in previous})
    return [
        {
            "on": d.distributed_on,
            "hub": d.site.name if d.organization_id in shown else None,
            "organization": d.site.organization.name if d.organization_id in shown else None,
        }
        for d in previous
    ]


# Pages and fragments ------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> Response:
    return _respond(None)


@bp.route("/find", methods=["GET", "POST"])
@roles_required(*READERS)
def find() -> Response:
    """Active search at the counter: households in charge, by codice fiscale or name.

    The finder posts the text, so that a codice fiscale never appears in a URL; without htmx
    the post is answered with the page's URL carrying it as a token (app.web.search_token)."""
    sites = _recorder_sites_or_403()
    if request.method == "POST":
        q = normalised_query(request.form.get("q"))
        if not wants_fragment():
            target = (
                url_for("distributions.find", cerca=search_token(q, current_user.id))
                if q
                else url_for("distributions.index")
            )
            return redirect(target, code=303)  # type: ignore[return-value]
    else:
        typed = request.args.get("q") or search_text(request.args.get("cerca"), current_user.id)
        q = normalised_query(typed)
    hits = find_households(current_user, q, today()) if len(q) >= MIN_QUERY_LENGTH else None
    return _respond(
        "distributions/_finder_results.html",
        action="distribution_finder_used",
        q=q,
        hits=hits,
        sites=sites,
    )


@bp.get("/form")
@roles_required(*READERS)
def counter_form() -> Response:
    """The form with a household chosen in the finder (or none, to start again)."""
    sites = _recorder_sites_or_403()
    household = None
    raw = request.args.get("household_id")
    if raw is not None and raw.strip():
        household_id = optional_int(raw)
        if not household_id or household_id < 1:
            abort(404)
        household = visible_household_or_404(current_user, household_id)
        if household.status != "active" or household.anonymised_at is not None:
            raise DomainError(_("Il nucleo non è più in carico: non si registrano distribuzioni."))
    form = _new_form(sites, household, formdata=None)
    if household is not None:
        (form.site_id if len(sites) > 1 else form.kind).render_kw = {"autofocus": True}
    return _respond(
        "distributions/_form.html",
        action="distribution_form_viewed",
        form=form,
        household=household,
        sites=sites,
    )


@bp.post("/scan")
@roles_required(*READERS)
def scan() -> Response:
    """A card read at the counter (a USB scanner typing its token and Enter, or the camera read
    by static/js/card-scan.js): the household's counter form, as the finder's choice opens it.
    A revoked card says so; an unknown token and a card of a household out of scope answer
    exactly the same (nothing tells that the card exists). Opening a household is audited."""
    sites = _recorder_sites_or_403()
    token = normalised_token(request.form.get("token"))
    card = scanned_card(current_user, token_hash(token)) if token else None
    if card is None or not card.active:
        message = (
            _(
                "Tessera revocata il %(date)s: chiedi il documento e ristampa la tessera.",
                date=format_date(card.revoked_at),
            )
            if card is not None
            else _(
                "Tessera non riconosciuta: cerca il nucleo per codice fiscale o cognome e, se "
                "serve, ristampa la tessera."
            )
        )
        return _respond(
            "distributions/_form.html",
            status=422,
            action="distribution_form_viewed",
            form=_new_form(sites, formdata=None),
            household=None,
            scan_error=message,
            sites=sites,
        )
    household = card.household
    if household.status != "active" or household.anonymised_at is not None:
        raise DomainError(_("Il nucleo non è più in carico: non si registrano distribuzioni."))
    form = _new_form(sites, household, formdata=None)
    (form.site_id if len(sites) > 1 else form.kind).render_kw = {"autofocus": True}
    return _respond(
        "distributions/_form.html",
        action="household_card_scanned",
        form=form,
        household=household,
        sites=sites,
    )


@bp.after_request
def _camera_for_the_counter(response: Response) -> Response:
    """The counter page may use the camera (the card's QR code); other pages may not."""
    if request.endpoint in {"distributions.index", "distributions.find", "distributions.scan",
                            "distributions.counter_form"}:  # fmt: skip
        response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


@bp.get("/counts")
@roles_required(*READERS)
def counts() -> Response:
    """The month's counts per hub and kind (the month selector of the page)."""
    month = parse_month(request.args.get("mese"), today())
    response = _respond("distributions/_counts.html", **_month_context(month))
    if wants_fragment():
        push_url(response, "distributions.index", mese=month.strftime("%Y-%m"))
    return response


def _distribution_export(kind: str) -> Response:
    """The month's distribution log (the month of the counts), as a spreadsheet; audited."""
    month = parse_month(request.args.get("mese"), today())
    found = list(
        db.session.scalars(
            log_distributions(current_user)
            .where(
                Distribution.distributed_on >= month,
                Distribution.distributed_on < next_month(month),
            )
            .options(
                selectinload(Distribution.site).selectinload(Site.organization),
                selectinload(Distribution.household).selectinload(Household.members),
                selectinload(Distribution.operator),
            )
            .order_by(Distribution.distributed_on, Distribution.id)
            .limit(ROW_LIMIT + 1)
        )
    )
    columns: list[Column[Distribution]] = [
        Column(_("Data"), lambda d: d.distributed_on),
        Column(_("Snodo"), lambda d: d.site.name),
        Column(_("Ente"), lambda d: d.site.organization.name),
        Column(_("N. nucleo"), lambda d: d.household_id),
        Column(_("Nucleo"), lambda d: d.household.display_name),
        Column(_("Tipo"), lambda d: str(DISTRIBUTION_KINDS.get(d.kind, d.kind))),
        Column(_("Quantità"), lambda d: d.quantity),
        Column(_("Operatore/trice"), lambda d: d.operator.full_name if d.operator else ""),
        Column(_("Motivo del secondo paniere"), lambda d: d.override_reason or ""),
    ]
    return export_list(
        kind,
        found[:ROW_LIMIT],
        columns,
        cut_at=ROW_LIMIT if len(found) > ROW_LIMIT else None,
        household_of=lambda d: d.household_id,
        filename=f"distribuzioni-{month.strftime('%Y-%m')}",
        title=_("Distribuzioni"),
        action="distributions_exported",
        changes={"month": month.strftime("%Y-%m")},
    )


@bp.get("/export.csv")
@roles_required(*READERS)
def export_csv() -> Response:
    return _distribution_export("csv")


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export_xlsx() -> Response:
    return _distribution_export("xlsx")


@bp.post("/")
@roles_required(*READERS)
def record() -> Response:
    sites = _recorder_sites_or_403()
    household = _posted_household()
    form = _new_form(sites)
    warning = None
    if form.validate_on_submit() and household is not None:
        key = form.idempotency_key.data
        earlier = idempotency.claim(key, current_user, PURPOSE)
        if earlier is not None:  # the same form sent again (a double click): the first's answer
            return _replay(earlier, sites)  # committed with its audit event of the households shown
        site = next(s for s in sites if s.id == form.site_id.data)
        try:
            distribution = operations.record_distribution(
                household,
                site,
                form.kind.data,
                form.quantity.data,
                form.distributed_on.data,
                current_user,
                form.override_reason.data,
            )
        except OutOfStock as empty:
            # Nothing is saved: the counter says which hub ran out, next to the quantity.
            roll_back()
            form.quantity.errors = [empty.message]
        except operations.SecondBasketNeedsReason as second:
            # Nothing is saved, the key neither: the same form comes back with the reason.
            roll_back()
            warning = _ask_reason(form, second.previous)
            if "override_reason" in request.form:  # the user saw the warning and left it empty
                form.override_reason.errors = [
                    _("Scrivi il motivo per registrare un altro paniere nello stesso mese.")
                ]
        else:
            idempotency.complete(
                key, current_user, PURPOSE, distribution, url_for("distributions.index")
            )
            return _recorded(distribution, household, sites)
    elif (
        household is not None
        and form.kind.data == operations.FOOD_BASKET
        and isinstance(form.distributed_on.data, date)
        and not form.distributed_on.errors
    ):
        # Other fields need fixing: say now, not after, that a reason will be needed too.
        previous = operations.food_baskets_in_month(household, form.distributed_on.data)
        if previous:
            warning = _ask_reason(form, previous)
    return _respond(
        "distributions/_form.html",
        status=422,
        action="distribution_form_viewed",
        form=form,
        household=household,
        warning=warning,
        sites=sites,
    )


def _replay(earlier: idempotency.Submission, sites: list[Site]) -> Response:
    """What the first submission of this form answered: the same message, list and counts.
    The new blank form carries a new key, for the next family. Ends the request (`finish`)."""
    distribution = (
        db.session.get(Distribution, earlier.object_id) if earlier.object_id is not None else None
    )
    if distribution is None:  # recorded, then removed with its household: start again
        return finish(redirect(url_for("distributions.index"), code=303))
    return _recorded(distribution, distribution.household, sites)


def _recorded(distribution: Distribution, household: Household, sites: list[Site]) -> Response:
    """The answer to a distribution recorded, prepared and then committed (`finish`)."""
    kind = DISTRIBUTION_KINDS[distribution.kind]
    if not wants_fragment():
        return finish(
            redirect(url_for("distributions.index"), code=303),
            _(
                "Distribuzione registrata: %(kind)s a %(name)s.",
                kind=kind,
                name=household.display_name,
            ),
        )
    form = _new_form(sites, formdata=None)
    form.site_id.data = distribution.site_id
    context = {
        "saved_household": household,
        "recent": recent_distributions(current_user),
    }
    _audit_shown("distributions_listed", context)  # in the transaction of the distribution
    return finish(
        render(
            "distributions/_recorded.html",
            form=form,
            household=None,
            history=(None, False),
            saved=distribution,
            q="",
            hits=None,
            reset_finder=True,
            kinds=DISTRIBUTION_KINDS,
            min_query_length=MIN_QUERY_LENGTH,
            **context,
            **_month_context(month_start(distribution.distributed_on)),
        )
    )
