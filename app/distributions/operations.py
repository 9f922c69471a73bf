"""Recording a distribution: check, mutate, audit in the same transaction, flush. Views commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.operations import record
from app.auth.models import User
from app.clock import today
from app.distributions.models import Distribution
from app.distributions.queries import month_start, next_month
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.registry.models import Site
from app.web.formatting import format_date
from app.workflow import lock_row

FOOD_BASKET = "food_basket"
MAX_QUANTITY = 100
REASON_MAX_LENGTH = 500


class SecondBasketNeedsReason(DomainError):
    """The household already had a food basket this calendar month (at any hub): saving another
    one needs a reason. `previous` holds the baskets already given, oldest first."""

    def __init__(self, previous: list[Distribution]) -> None:
        dates = ", ".join(format_date(d.distributed_on) for d in previous)
        super().__init__(
            _(
                "Questo nucleo ha già ricevuto un paniere alimentare nello stesso mese "
                "(%(dates)s): per registrarne un altro scrivi il motivo.",
                dates=dates,
            )
        )
        self.previous = previous


def food_baskets_in_month(household: Household, day: date) -> list[Distribution]:
    """The food baskets the household received in the calendar month of `day`, at ANY hub of
    the city: the rule is about the family, not about who gave the basket."""
    start = month_start(day)
    return list(
        db.session.scalars(
            select(Distribution)
            .where(
                Distribution.household_id == household.id,
                Distribution.kind == FOOD_BASKET,
                Distribution.distributed_on >= start,
                Distribution.distributed_on < next_month(start),
            )
            .options(selectinload(Distribution.site).selectinload(Site.organization))
            .order_by(Distribution.distributed_on, Distribution.id)
        )
    )


def record_distribution(
    household: Household,
    site: Site,
    kind: str,
    quantity: int,
    on: date,
    operator: User,
    override_reason: str | None = None,
) -> Distribution:
    """Record what a hub gave a household. A second food basket in the same calendar month
    raises SecondBasketNeedsReason unless `override_reason` says why; the reason is stored
    only when it overrides that warning. At a hub that keeps stock of the kind, the quantity is
    taken from it in the same transaction; without enough, supplies.OutOfStock is raised and
    nothing is saved."""
    if operator.organization_id is None or site.organization_id != operator.organization_id:
        raise DomainError(_("Puoi registrare distribuzioni solo negli snodi del tuo ente."))
    if not site.is_hub:
        raise DomainError(_("Questa sede non è uno snodo di distribuzione."))
    if household.status != "active" or household.anonymised_at is not None:
        raise DomainError(_("Il nucleo non è più in carico: non si registrano distribuzioni."))
    if kind not in DISTRIBUTION_KINDS:
        raise DomainError(_("Tipo di distribuzione sconosciuto."))
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(_("La quantità deve essere un numero intero da 1 a 100."))
    if on > today():
        raise DomainError(_("La data non può essere nel futuro."))
    reason = (override_reason or "").strip()[:REASON_MAX_LENGTH] or None

    if kind == FOOD_BASKET:
        # Two counters recording for the same family at once must not both pass the check:
        # the household row is held until the transaction ends (FOR UPDATE on PostgreSQL, the
        # write lock on SQLite), so the second reads the basket the first recorded.
        lock_row(Household, household.id)
        previous = food_baskets_in_month(household, on)
        if previous and reason is None:
            raise SecondBasketNeedsReason(previous)
        if not previous:
            reason = None
    else:
        reason = None

    distribution = Distribution(
        household_id=household.id,
        site_id=site.id,
        organization_id=site.organization_id,
        distributed_on=on,
        kind=kind,
        quantity=quantity,
        operator_id=operator.id,
        override_reason=reason,
    )
    db.session.add(distribution)
    db.session.flush()
    from app.supplies.operations import take_for_distribution  # supplies imports this module

    # The hub's stock gives it, under the hub-and-item row lock: with the last basket on the
    # shelf, of two counters one records it and the other is refused (supplies.OutOfStock).
    take_for_distribution(distribution, site, operator)
    record(
        "distribution_recorded",
        distribution,
        {
            "household_id": household.id,
            "site_id": site.id,
            "site": site.name,
            "distributed_on": on.isoformat(),
            "kind": kind,
            "quantity": quantity,
            "override_reason": reason,
        },
        actor=operator,
    )
    db.session.flush()
    return distribution
