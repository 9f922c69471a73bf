"""The card of a household, from its page: issue, download (print), revoke and reissue.
Operators who may edit the household see the card; issuing is a hub's act. Out of scope → 404."""

from __future__ import annotations

from flask import Response, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import idempotency
from app.audit.operations import commit_view, record_views
from app.auth.models import Role
from app.auth.policy import roles_required
from app.cards import bp, operations
from app.cards.forms import REVOKE_LABELS, IssueForm, RevokeForm
from app.cards.models import HouseholdCard
from app.cards.policy import can_issue_cards, household_cards
from app.distributions.queries import hub_sites
from app.errors import DomainError
from app.households.models import Household
from app.households.policy import editable_household_or_404
from app.i18n import gettext as _
from app.registry.models import Site
from app.web.htmx import render
from app.web.transactions import finish, roll_back

PURPOSE = "household_card"


def _back(household: Household) -> Response:
    return redirect(  # type: ignore[return-value]
        url_for("households.detail", household_id=household.id, _anchor="card-title"), code=303
    )


def _sites(form: IssueForm | RevokeForm) -> list[Site]:
    sites = hub_sites(current_user)
    form.site_id.choices = [SelectChoice(s.id, s.name) for s in sites]  # type: ignore[arg-type]
    if len(sites) != 1:
        form.site_id.choices.insert(0, SelectChoice("", _("Scegli lo snodo")))  # type: ignore[arg-type]
    elif form.site_id.data is None:
        form.site_id.data = sites[0].id
    return sites


@bp.post("/<int:household_id>/card")
@roles_required(Role.ENTITY_OPERATOR)
def issue(household_id: int) -> Response:
    """A first card. The same form sent twice (a double click) issues one: its key says so."""
    household = editable_household_or_404(current_user, household_id)
    if not can_issue_cards(current_user, household):
        abort(404)
    form = IssueForm()
    sites = _sites(form)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for f in form for e in f.errors) or _("Dati non validi."), "danger")
        return _back(household)
    key = form.idempotency_key.data
    if idempotency.claim(key, current_user, PURPOSE) is not None:
        return _back(household)  # the same form sent again (a double click): already issued
    site = next(s for s in sites if s.id == form.site_id.data)
    try:
        card = operations.issue_card(household, site, current_user)
    except DomainError as refused:
        roll_back()
        flash(refused.message, "danger")
        return _back(household)
    idempotency.complete(key, current_user, PURPOSE, card, None)
    return finish(_back(household), _("Tessera emessa: scaricala e stampala."))


def _active_or_404(household: Household) -> HouseholdCard:
    card = operations.active_card(household)
    if card is None:
        abort(404)
    return card


@bp.get("/<int:household_id>/card.pdf")
@roles_required(Role.ENTITY_OPERATOR)
def download(household_id: int) -> Response:
    """The active card as an A6 PDF, to print; audited."""
    household = editable_household_or_404(current_user, household_id)
    card = _active_or_404(household)
    body = operations.card_pdf(card)
    operations.record_download(card, current_user)
    response = make_response(body)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="tessera-{card.number}.pdf"'
    return finish(response)


@bp.route("/<int:household_id>/card/revoke", methods=["GET", "POST"])
@roles_required(Role.ENTITY_OPERATOR)
def revoke(household_id: int) -> Response:
    """Revoking asks for a reason on its own page. «Revoca e ristampa» issues the new card in
    the same transaction (a hub only); «Revoca soltanto» blocks the card."""
    household = editable_household_or_404(current_user, household_id)
    card = _active_or_404(household)
    may_issue = can_issue_cards(current_user, household)
    form = RevokeForm()
    sites = _sites(form) if may_issue else []
    reissue = may_issue and request.form.get("action") != "revoke"
    if form.validate_on_submit():
        site = next((s for s in sites if s.id == form.site_id.data), None)
        if reissue and site is None:
            form.site_id.errors = [_("Scegli lo snodo.")]
        else:
            note = (form.note.data or "").strip() or None
            try:
                if reissue:
                    operations.reissue_card(household, site, form.reason.data, note, current_user)  # type: ignore[arg-type]
                else:
                    operations.revoke_card(household, form.reason.data, note, current_user)
            except DomainError as refused:
                roll_back()
                flash(refused.message, "danger")
                return _back(household)
            return finish(
                _back(household),
                _("Tessera revocata e ristampata: scarica la nuova e stampala.")
                if reissue
                else _("Tessera revocata: non apre più il nucleo allo snodo."),
            )
    record_views("household_card_revoke_viewed", [household], card)
    commit_view()
    return render(
        "cards/revoke.html",
        form=form,
        household=household,
        card=card,
        may_issue=may_issue and bool(sites),
        status=422 if form.errors else 200,
    )


def card_context(household: Household, can_edit: bool) -> dict[str, object]:
    """What the household page shows of the cards (for those who may edit the household)."""
    if not can_edit:
        return {"cards": None}
    form = IssueForm(formdata=None)
    may_issue = can_issue_cards(current_user, household) and bool(_sites(form))
    return {
        "cards": household_cards(household),
        "card_form": form if may_issue else None,
        "card_reasons": REVOKE_LABELS,
    }
