"""The offline counter: the installable page, its service worker and manifest, the day's data
and key, the sync of the queue, and the entries that wait for the operator.

The page itself holds no personal data (the service worker keeps it for offline use); the
households come from `/counter/day` as JSON, which the browser keeps only encrypted with the
day's key (`/counter/session`). Every answer that shows a household is audited."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.audit import operations as audit
from app.auth.models import Role
from app.auth.policy import roles_required
from app.counter import bp, operations
from app.counter.models import CounterEntry
from app.counter.queries import DAY_SHOWS, day_data, organization_entries, visible_ids
from app.distributions.queries import hub_sites
from app.errors import DomainError
from app.households.policy import can_record_distributions
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.web.htmx import render
from app.web.transactions import commit_step, finish, roll_back

MAX_SYNC_ITEMS = 200
# What the service worker keeps for the page to open offline (all under /static/, versioned).
SHELL_ASSETS = (
    "vendor/bootstrap-italia/dist/css/bootstrap-italia.min.css",
    "vendor/bootstrap-italia/dist/css/bootstrap-italia-fonts.css",
    "vendor/bootstrap-italia/dist/js/bootstrap-italia.bundle.min.js",
    "vendor/bootstrap-italia/dist/svg/sprites.svg",
    "vendor/bootstrap-italia/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2",
    "vendor/bootstrap-italia/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2",
    "vendor/bootstrap-italia/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2",
    "vendor/htmx/htmx.min.js",
    "vendor/jsqr/jsQR.js",
    "css/app.css",
    "img/favicon.svg",
    "js/app.js",
    "js/card-scan.js",
    "js/counter.js",
)


def _recorder_or_403() -> None:
    if not can_record_distributions(current_user):
        abort(403)


def _json(payload: Any, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@roles_required(Role.ENTITY_OPERATOR)
def index() -> Response:
    """The page: no household in it (it is kept offline); its script fills it."""
    _recorder_or_403()
    return render("counter/index.html", sites=hub_sites(current_user), kinds=DISTRIBUTION_KINDS)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the counter's path so that its scope is the counter alone. Its
    text names the versioned assets, so that a new release installs a new worker."""
    assets = [url_for("static", filename=name) for name in SHELL_ASSETS]
    body = render_template(
        "counter/sw.js",
        shell=url_for("counter.index"),
        assets=assets,
        version=hashlib.sha256(" ".join(assets).encode()).hexdigest()[:12],
    )
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for("counter.index")
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """What the phone needs to install the counter as an app."""
    body = {
        "name": _("Banco dello snodo · Reti di comunità"),
        "short_name": _("Banco snodo"),
        "description": _("Registra le distribuzioni dello snodo anche senza collegamento."),
        "lang": "it",
        "start_url": url_for("counter.index"),
        "scope": url_for("counter.index"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0066cc",
        "icons": [
            {
                "src": url_for("static", filename="img/favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            }
        ],
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/session")
def session_key() -> Response:
    """The day's key and a fresh form token, for the page's script (same origin only)."""
    if not current_user.is_authenticated:
        return _json({"error": _("La sessione è scaduta: accedi di nuovo per continuare.")}, 401)
    if not can_record_distributions(current_user):
        abort(403)
    key, day = operations.day_key(current_user)
    return finish(
        _json(
            {
                "key": key,
                "day": day.isoformat(),
                "user_id": current_user.id,
                "csrf": generate_csrf(),
            }
        )
    )


@bp.get("/day")
@roles_required(Role.ENTITY_OPERATOR)
def day() -> Response:
    """The hub's day: the households the user may see, for the browser to keep encrypted."""
    _recorder_or_403()
    data = day_data(current_user)
    audit.record_views(
        "counter_day_downloaded",
        [row["id"] for row in data["households"]],
        changes={"shown": DAY_SHOWS},
    )
    return finish(_json(data))


@bp.post("/sync")
@roles_required(Role.ENTITY_OPERATOR)
def sync() -> Response:
    """Apply what the queue recorded offline, each entry exactly once, each in its own
    transaction. The answer says, per key, what became of it: the page drops those keys."""
    _recorder_or_403()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("items", []), list):
        return _json({"error": _("Richiesta non valida.")}, 400)
    raw_items = payload.get("items", [])[:MAX_SYNC_ITEMS]
    sites = hub_sites(current_user)
    results = []
    for raw in raw_items:
        item = operations.QueuedDistribution.parse(raw)
        if item is None:
            continue  # no usable key: nothing to answer to
        entry, new = operations.apply(current_user, item, sites)
        commit_step()
        results.append(_result(entry, new))
    _audit_offline_views(payload.get("viewed"))
    held = sum(1 for r in results if r["held"])
    return finish(_json({"results": results, "held": held}))


def _result(entry: CounterEntry, new: bool) -> dict[str, Any]:
    return {
        "key": entry.key,
        "status": entry.status,
        "held": entry.held,
        "new": new,
        "message": entry.message,
    }


def _audit_offline_views(viewed: Any) -> None:
    """The households the page opened offline: audited now, as if opened online."""
    if not isinstance(viewed, list):
        return
    ids = {v for v in viewed[:1000] if isinstance(v, int) and not isinstance(v, bool)}
    shown = visible_ids(current_user, sorted(ids))
    if not shown:
        return
    audit.record_views("counter_offline_viewed", shown)


@bp.post("/close")
@roles_required(Role.ENTITY_OPERATOR)
def close() -> Response:
    """Close the day: the key is forgotten; the page wipes what the browser kept."""
    _recorder_or_403()
    operations.close_day(current_user)
    return finish(_json({"closed": True}))


# The entries the queue sent -----------------------------------------------------------------


def _entries(status: int = 200, **context: Any) -> Response:
    held, synced = organization_entries(current_user)
    audit.record_views(
        "counter_entries_listed",
        [e.shown_household.id for e in held + synced if e.shown_household is not None],  # type: ignore[attr-defined]
    )
    audit.commit_view()
    return render(
        "counter/index.html",
        "counter/_entries.html",
        status=status,
        held=held,
        synced=synced,
        sites=hub_sites(current_user),
        kinds=DISTRIBUTION_KINDS,
        **context,
    )


@bp.get("/entries")
@roles_required(Role.ENTITY_OPERATOR)
def entries() -> Response:
    _recorder_or_403()
    return _entries()


def _held_or_404(entry_id: int) -> CounterEntry:
    entry = operations.held_entry_or_none(current_user, entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.post("/entries/<int:entry_id>/resolve")
@roles_required(Role.ENTITY_OPERATOR)
def resolve(entry_id: int) -> Response:
    _recorder_or_403()
    entry = _held_or_404(entry_id)
    reason = request.form.get("reason", "")
    try:
        operations.resolve(entry, current_user, hub_sites(current_user), reason)
    except DomainError as refused:
        roll_back()
        return _entries(422, error_for=entry_id, error=refused.message, typed=reason)
    # committed with the list's audit event, by `_entries()`
    return _entries(done=_("Registrazione risolta."))


@bp.post("/entries/<int:entry_id>/cancel")
@roles_required(Role.ENTITY_OPERATOR)
def cancel(entry_id: int) -> Response:
    _recorder_or_403()
    entry = _held_or_404(entry_id)
    try:
        operations.cancel(entry, current_user)
    except DomainError as refused:
        roll_back()
        return _entries(422, error_for=entry_id, error=refused.message)
    # committed with the list's audit event, by `_entries()`
    return _entries(done=_("Registrazione annullata."))
