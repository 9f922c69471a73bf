"""Who sees and changes which hub's stock. The City sees every hub; an operator of a hub
organization sees and records its own hubs; housing providers and the admin have no access."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from app.auth.models import Role, User
from app.households.policy import can_record_distributions
from app.registry.models import Site
from app.supplies.models import SupplyBalance

READERS = (Role.COORDINATOR, Role.ENTITY_OPERATOR)


def can_view_supplies(user: User) -> bool:
    return user.has_role(*READERS)


def can_record_supplies(user: User) -> bool:
    """Deliveries and adjustments: the operators of an organization that runs hubs."""
    return can_record_distributions(user)


def can_define_items(user: User) -> bool:
    return user.has_role(Role.COORDINATOR)


def visible_hubs(user: User) -> Select[tuple[Site]]:
    """The hub sites whose stock the user may see."""
    query = select(Site).where(Site.is_hub.is_(True))
    if user.has_role(Role.COORDINATOR):
        return query
    if can_record_supplies(user):
        return query.where(Site.organization_id == user.organization_id)
    return query.where(false())


def visible_balances(user: User) -> Select[tuple[SupplyBalance]]:
    """The hub-and-item balances the user may see (another organization's: not found)."""
    return select(SupplyBalance).where(
        SupplyBalance.site_id.in_(visible_hubs(user).with_only_columns(Site.id))
    )
