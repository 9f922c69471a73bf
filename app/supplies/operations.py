"""Stock changes: deliveries, adjustments, transfers, and the basket a distribution takes out.

Every change is a movement on the hub-and-item balance row, written by `_move()` under a row
lock on that row (app.workflow.lock_row): two counters giving out the last basket take turns,
the second reads what the first left and is refused with `OutOfStock`. Each operation writes its
audit event and flushes; the view commits.

Stock tracking of an item at a hub starts with its first movement in (a delivery, a transfer
from another hub, or a count correction that records what is on the shelves): from then on each
distribution of that kind takes its quantity out, and none is recorded without stock. A hub that
never recorded a delivery of a kind is not tracked for it (its distributions are recorded as
before, with no movement), so the portal can be switched on hub by hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.admin.models import get_setting
from app.audit.operations import record
from app.auth.models import User
from app.clock import today
from app.db import utcnow
from app.distributions.models import Distribution
from app.errors import DomainError
from app.extensions import db
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.notifications.operations import coordinators, notify, operators_of
from app.registry.models import Site
from app.supplies.models import (
    SupplyBalance,
    SupplyDelivery,
    SupplyDeliveryLine,
    SupplyItem,
    SupplyMovement,
)
from app.supplies.vocabulary import OUTGOING_REASONS, REASONS
from app.workflow import lock_row

MAX_LINE_QUANTITY = 100_000
NOTE_MAX_LENGTH = 300
WINDOW_DAYS = 28  # the average daily distribution is over the last four weeks
SHORTAGE_SETTING = "supply_shortage_days"
SHORTAGE_DEFAULT = 5


class OutOfStock(DomainError):
    """The hub has less of the item than this change takes out: nothing is saved."""

    def __init__(self, item: SupplyItem, site: Site, left: int) -> None:
        super().__init__(
            _(
                "Scorte esaurite per %(item)s allo snodo %(site)s: ne restano %(left)s. "
                "Registra prima la consegna ricevuta, poi la distribuzione.",
                item=item.label,
                site=site.name,
                left=left,
            )
        )
        self.left = left


# Items and balances -------------------------------------------------------------------------


def _insert_ignoring_duplicates(model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two requests creating the same row make one."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


def standard_item(kind: str, create: bool = True) -> SupplyItem | None:
    """The item of a distribution kind (food basket, basic necessities), made on first use."""
    if kind not in DISTRIBUTION_KINDS:
        return None
    found = db.session.scalar(select(SupplyItem).where(SupplyItem.distribution_kind == kind))
    if found is not None or not create:
        return found
    _insert_ignoring_duplicates(
        SupplyItem,
        {"name": str(DISTRIBUTION_KINDS[kind]), "distribution_kind": kind, "active": True,
         "created_at": utcnow()},
        ["distribution_kind"],
    )  # fmt: skip
    return db.session.scalar(select(SupplyItem).where(SupplyItem.distribution_kind == kind))


def standard_items() -> list[SupplyItem]:
    return [item for kind in DISTRIBUTION_KINDS if (item := standard_item(kind)) is not None]


def existing_balance(site: Site, item: SupplyItem) -> SupplyBalance | None:
    return db.session.scalar(
        select(SupplyBalance).where(
            SupplyBalance.site_id == site.id, SupplyBalance.item_id == item.id
        )
    )


def balance_of(site: Site, item: SupplyItem) -> SupplyBalance:
    """The hub's balance row of the item, made (at zero) on its first movement."""
    found = existing_balance(site, item)
    if found is not None:
        return found
    _insert_ignoring_duplicates(
        SupplyBalance,
        {"site_id": site.id, "item_id": item.id, "on_hand": 0},
        ["site_id", "item_id"],
    )
    made = existing_balance(site, item)
    if made is None:  # pragma: no cover - the insert above or a colleague's made it
        raise DomainError(_("Riprova: lo snodo non è stato trovato."))
    return made


def _move(
    balance: SupplyBalance,
    kind: str,
    quantity: int,
    on: date,
    actor: User | None,
    **refs: Any,
) -> SupplyMovement:
    """Add a movement to the balance under its row lock; refuse to go below zero."""
    lock_row(SupplyBalance, balance.id)
    db.session.refresh(balance)  # what the writer before us left, now that we hold the row
    after = balance.on_hand + quantity
    if after < 0:
        raise OutOfStock(balance.item, balance.site, balance.on_hand)
    balance.on_hand = after
    movement = SupplyMovement(
        balance_id=balance.id,
        site_id=balance.site_id,
        item_id=balance.item_id,
        kind=kind,
        quantity=quantity,
        balance_after=after,
        occurred_on=on,
        actor_id=actor.id if actor is not None else None,
        **refs,
    )
    db.session.add(movement)
    db.session.flush()
    return movement


def _check_hub(site: Site, operator: User) -> None:
    if operator.organization_id is None or site.organization_id != operator.organization_id:
        raise DomainError(_("Puoi registrare le scorte solo degli snodi del tuo ente."))
    if not site.is_hub:
        raise DomainError(_("Questa sede non è uno snodo di distribuzione."))


def _check_day(on: date) -> None:
    if on > today():
        raise DomainError(_("La data non può essere nel futuro."))


# Deliveries ---------------------------------------------------------------------------------


def record_delivery(
    site: Site,
    note_number: str,
    delivered_on: date,
    lines: list[tuple[SupplyItem, int]],
    operator: User,
) -> SupplyDelivery:
    """A delivery note from central logistics: one movement in per line. The note number is
    unique per hub (a note recorded twice is refused, even by two people at once)."""
    _check_hub(site, operator)
    _check_day(delivered_on)
    number = " ".join((note_number or "").split())[:40]
    if not number:
        raise DomainError(_("Indica il numero del documento di trasporto."))
    merged: dict[int, tuple[SupplyItem, int]] = {}
    for item, quantity in lines:
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            raise DomainError(_("Ogni quantità deve essere un numero intero da 1 a 100.000."))
        if not item.active:
            raise DomainError(_("Questo articolo non è più in uso."))
        previous = merged.get(item.id, (item, 0))[1]
        merged[item.id] = (item, previous + quantity)
    if not merged:
        raise DomainError(_("Aggiungi almeno una riga con articolo e quantità."))
    duplicate = _("Il documento di trasporto n. %(number)s è già registrato per questo snodo.",
                  number=number)  # fmt: skip
    if db.session.scalar(
        select(SupplyDelivery.id).where(
            SupplyDelivery.site_id == site.id, SupplyDelivery.note_number == number
        )
    ):
        raise DomainError(duplicate)
    delivery = SupplyDelivery(
        site_id=site.id, note_number=number, delivered_on=delivered_on, recorded_by_id=operator.id
    )
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
            db.session.flush()
    except IntegrityError as error:  # the same note, recorded by a colleague a moment ago
        raise DomainError(duplicate) from error
    for item, quantity in merged.values():
        db.session.add(
            SupplyDeliveryLine(delivery_id=delivery.id, item_id=item.id, quantity=quantity)
        )
        balance = balance_of(site, item)
        _move(balance, "delivery", quantity, delivered_on, operator, delivery_id=delivery.id)
    db.session.flush()
    record(
        "supply_delivery_recorded",
        delivery,
        {
            "site_id": site.id,
            "site": site.name,
            "note_number": number,
            "delivered_on": delivered_on.isoformat(),
            "lines": [
                {"item_id": i.id, "item": i.label, "quantity": q} for i, q in merged.values()
            ],
        },
        actor=operator,
    )
    for item, _quantity in merged.values():
        review_shortage(balance_of(site, item), today())
    db.session.flush()
    return delivery


# Adjustments --------------------------------------------------------------------------------


def record_adjustment(
    site: Site,
    item: SupplyItem,
    reason: str,
    quantity: int,
    on: date,
    operator: User,
    note: str | None = None,
    to_site: Site | None = None,
) -> SupplyMovement:
    """A change with a coded reason, signed: damaged, expired and moved to another hub take
    goods out (negative); a count correction sets the books to what is on the shelves (either
    sign). A move to another hub also makes the incoming movement at that hub."""
    _check_hub(site, operator)
    _check_day(on)
    if reason not in REASONS:
        raise DomainError(_("Scegli il motivo della rettifica."))
    if quantity == 0 or abs(quantity) > MAX_LINE_QUANTITY:
        raise DomainError(_("La variazione deve essere un numero intero diverso da zero."))
    if reason in OUTGOING_REASONS and quantity > 0:
        raise DomainError(
            _("Per merce danneggiata, scaduta o trasferita indica una quantità negativa (es. -3).")
        )
    text = (note or "").strip()[:NOTE_MAX_LENGTH] or None
    balance = balance_of(site, item)
    target = None
    if reason == "transferred":
        if to_site is None or not to_site.is_hub or to_site.id == site.id:
            raise DomainError(_("Scegli lo snodo che riceve la merce."))
        target = balance_of(to_site, item)
        # Both rows, always in the same order: two hubs moving goods to each other at once
        # wait for each other instead of deadlocking.
        for key in sorted((balance.id, target.id)):
            lock_row(SupplyBalance, key)
    movement = _move(
        balance,
        "transfer_out" if target is not None else "adjustment",
        quantity,
        on,
        operator,
        reason=reason,
        note=text,
        other_site_id=to_site.id if target is not None and to_site is not None else None,
    )
    changes: dict[str, Any] = {
        "site_id": site.id,
        "site": site.name,
        "item_id": item.id,
        "item": item.label,
        "reason": reason,
        "quantity": quantity,
        "on": on.isoformat(),
        "note": text,
    }
    if target is not None and to_site is not None:
        incoming = _move(
            target,
            "transfer_in",
            -quantity,
            on,
            operator,
            reason=reason,
            note=text,
            other_site_id=site.id,
        )
        changes.update({"to_site_id": to_site.id, "to_site": to_site.name,
                        "incoming_movement_id": incoming.id})  # fmt: skip
        review_shortage(target, today())
    record("supply_adjusted", movement, changes, actor=operator)
    review_shortage(balance, today())
    db.session.flush()
    return movement


# Distributions ------------------------------------------------------------------------------


def take_for_distribution(distribution: Distribution, site: Site, operator: User) -> None:
    """Take what a distribution gives out from the hub's stock (in its transaction). Refused
    with OutOfStock when the hub has less than that; nothing when the hub does not track the
    kind yet (no delivery of it was ever recorded there)."""
    item = standard_item(distribution.kind, create=False)
    if item is None:
        return
    balance = existing_balance(site, item)
    if balance is None:
        return
    _move(
        balance,
        "distribution",
        -distribution.quantity,
        distribution.distributed_on,
        operator,
        distribution_id=distribution.id,
    )
    review_shortage(balance, today())


# Shortage -----------------------------------------------------------------------------------


def shortage_threshold() -> int:
    return int(get_setting(SHORTAGE_SETTING, SHORTAGE_DEFAULT))


def daily_use(balance_ids: list[int], day: date) -> dict[int, float]:
    """The average daily distribution of each balance over the WINDOW_DAYS ending on `day`."""
    if not balance_ids:
        return {}
    rows = db.session.execute(
        select(SupplyMovement.balance_id, func.sum(SupplyMovement.quantity))
        .where(
            SupplyMovement.balance_id.in_(balance_ids),
            SupplyMovement.kind == "distribution",
            SupplyMovement.occurred_on > day - timedelta(days=WINDOW_DAYS),
            SupplyMovement.occurred_on <= day,
        )
        .group_by(SupplyMovement.balance_id)
    ).all()
    return {balance_id: -int(total) / WINDOW_DAYS for balance_id, total in rows if total}


@dataclass(frozen=True)
class Cover:
    on_hand: int
    daily: float  # average distributed per day, last 4 weeks

    @property
    def days(self) -> float | None:
        """Days of stock at the recent pace; None when nothing was given out lately."""
        return self.on_hand / self.daily if self.daily > 0 else None

    def short(self, threshold: int) -> bool:
        return self.days is not None and self.days < threshold


def review_shortage(balance: SupplyBalance, day: date) -> bool:
    """Tell the hub's staff and the City when its cover falls below the threshold: once per
    shortage episode (`short_since`, set by a conditional UPDATE, so two writers crossing the
    line at once tell people once); the episode ends when the cover is back. True if told."""
    cover = Cover(balance.on_hand, daily_use([balance.id], day).get(balance.id, 0.0))
    threshold = shortage_threshold()
    if not cover.short(threshold):
        if balance.short_since is not None:
            db.session.execute(
                update(SupplyBalance)
                .where(SupplyBalance.id == balance.id)
                .values(short_since=None)
                .execution_options(synchronize_session=False)
            )
            balance.short_since = None
        return False
    result = db.session.execute(
        update(SupplyBalance)
        .where(SupplyBalance.id == balance.id, SupplyBalance.short_since.is_(None))
        .values(short_since=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    db.session.refresh(balance)
    site = balance.site
    notify(
        operators_of(site.organization_id) + coordinators(),
        "supply_short",
        balance,
        {
            "site": site.name,
            "item": balance.item.label,
            "days": f"{cover.days:.1f}".replace(".", ","),
            "on_hand": balance.on_hand,
        },
    )
    record(
        "supply_shortage_notified",
        balance,
        {"site_id": site.id, "item_id": balance.item_id, "on_hand": balance.on_hand,
         "cover_days": round(cover.days or 0, 1), "threshold": threshold},
    )  # fmt: skip
    return True


def review_all_shortages(day: date) -> int:
    """The nightly pass: as days go by the recent pace changes; returns how many hubs told."""
    told = 0
    for balance in db.session.scalars(select(SupplyBalance).order_by(SupplyBalance.id)):
        told += review_shortage(balance, day)
    db.session.flush()
    return told


# Items of the City ----------------------------------------------------------------------------


def define_item(name: str, actor: User) -> SupplyItem:
    """An item the City distributes besides the two kinds (a hygiene kit, school supplies)."""
    clean = " ".join((name or "").split())[:120]
    if not clean:
        raise DomainError(_("Scrivi il nome dell'articolo."))
    taken = {label.casefold() for label in (str(v) for v in DISTRIBUTION_KINDS.values())}
    taken |= {
        n.casefold()
        for n in db.session.scalars(select(SupplyItem.name).where(SupplyItem.active.is_(True)))
    }
    if clean.casefold() in taken:
        raise DomainError(_("Esiste già un articolo con questo nome."))
    item = SupplyItem(name=clean, active=True)
    db.session.add(item)
    db.session.flush()
    record("supply_item_defined", item, {"name": clean}, actor=actor)
    db.session.flush()
    return item
