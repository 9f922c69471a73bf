"""Data-subject rights pages (City coordinators only): export everything held about a person
(JSON download and printable page) and anonymise a closed household after the retention period.

Routes live on the rights blueprint (URLs under /households); the rules and data: `operations`.
"""

from __future__ import annotations

import json

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.policy import roles_required
from app.clock import today
from app.distributions.models import Distribution
from app.extensions import db
from app.households.models import Household, Person
from app.households.policy import (
    USERS,
    can_exercise_data_rights,
    visible_household_or_404,
    visible_person_or_404,
)
from app.i18n import gettext as _
from app.rights import bp
from app.rights import operations as rights
from app.web.htmx import render
from app.web.transactions import finish


def _rights_household_or_404(household_id: int) -> Household:
    """Coordinators only (403 for everyone else), then the usual scope (404)."""
    if not can_exercise_data_rights(current_user):
        abort(403)
    return visible_household_or_404(current_user, household_id)


def _rights_person_or_404(household_id: int, person_id: int) -> Person:
    household = _rights_household_or_404(household_id)
    return visible_person_or_404(current_user, household, person_id)


# Export (right of access, GDPR art. 15) ------------------------------------------------------


@bp.get("/<int:household_id>/people/<int:person_id>/export.json")
@roles_required(*USERS)
def export_person_json(household_id: int, person_id: int) -> Response:
    person = _rights_person_or_404(household_id, person_id)
    rights.record_export(person, "json")
    data = rights.person_export(person, current_user, today())
    body = json.dumps(rights.jsonable(data), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    filename = f"dati-persona-{person.id}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return finish(response)


@bp.get("/<int:household_id>/people/<int:person_id>/export")
@roles_required(*USERS)
def export_person(household_id: int, person_id: int) -> Response:
    """The same content as the JSON, as a page to print or save as PDF from the browser."""
    person = _rights_person_or_404(household_id, person_id)
    rights.record_export(person, "html")
    response = render(
        "households/rights_person.html",
        person=person,
        data=rights.person_export(person, current_user, today()),
        change_text=rights.change_text,
    )
    return finish(response)


# Anonymisation after the retention period ------------------------------------------------------


@bp.route("/<int:household_id>/anonymise", methods=["GET", "POST"])
@roles_required(*USERS)
def anonymise(household_id: int) -> Response:
    """GET: what will happen and whether it is possible now. POST: anonymise (CSRF-protected).

    The confirmation page shows no personal data (no names), so opening it is not a view to
    audit; the household page linked from it is.
    """
    household = _rights_household_or_404(household_id)
    now = today()
    if request.method == "POST":
        rights.anonymise_household(household, now)
        return finish(
            redirect(url_for("households.detail", household_id=household.id), code=303),
            _(
                "Nucleo anonimizzato: nomi, codici fiscali, indirizzo, note e valore ISEE sono "
                "stati cancellati. Restano i dati che servono ai report."
            ),
        )
    distributions = (
        db.session.scalar(
            select(func.count())
            .select_from(Distribution)
            .where(Distribution.household_id == household.id)
        )
        or 0
    )
    years = rights.retention_years()
    allowed_on = (
        rights.anonymisable_from(household.closed_on, years) if household.closed_on else None
    )
    return render(
        "households/rights_anonymise.html",
        household=household,
        members=len(household.members),
        distributions=distributions,
        years=years,
        allowed_on=allowed_on,
        refusal=rights.anonymisation_refusal(household, now),
    )
