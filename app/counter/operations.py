"""The offline counter's writes: the day key, the entries its queue sends, their resolution.

Each entry is applied in its own transaction (the view commits after each), so a dropped
connection in the middle of a sync leaves the first entries applied and the rest to send again;
the (user, key) unique constraint makes a second sending of any of them change nothing. A
distribution is recorded by the same `record_distribution` as the online counter: the same
checks, the same row locks, the same stock movement, the same audit event.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.audit.operations import record, record_views
from app.auth.models import User
from app.auth.operations import session_ended
from app.auth.sealing import box
from app.clock import today
from app.counter.models import HELD, CounterEntry, CounterKey
from app.db import utcnow
from app.distributions import operations as distributions
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household
from app.households.policy import visible_households
from app.households.vocabulary import DISTRIBUTION_KINDS
from app.i18n import gettext as _
from app.idempotency import KEY_PATTERN
from app.registry.models import Site
from app.supplies.operations import OutOfStock
from app.workflow import lock_row

KEY_BYTES = 32  # AES-256-GCM in the browser
OLDEST_DAYS = 7  # an entry recorded offline more than a week ago is not applied blindly
REASON_MAX_LENGTH = distributions.REASON_MAX_LENGTH


def _box() -> Any:
    return box(b"counter day key")


# The day key --------------------------------------------------------------------------------


def day_key(user: User) -> tuple[str, date]:
    """The key of the user's counter day (base64), made when there is none or it is of an
    earlier day. Two tabs asking at once get the same key."""
    current = db.session.get(CounterKey, user.id)
    if current is not None and current.opened_on == today():
        return _box().decrypt(current.key_sealed.encode("ascii")).decode("ascii"), current.opened_on
    if current is not None:
        db.session.delete(current)
        db.session.flush()
    raw = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    db.session.add(
        CounterKey(
            user_id=user.id,
            key_sealed=_box().encrypt(raw.encode("ascii")).decode("ascii"),
            opened_on=today(),
        )
    )
    try:
        db.session.flush()
    except IntegrityError:  # the other tab made it first: use that one
        db.session.rollback()
        return day_key(user)
    record("counter_day_opened", user, {"day": today().isoformat()}, actor=user)
    return raw, today()


def close_day(user: User) -> bool:
    """Forget the day's key: what the browser kept of the day can no longer be read."""
    removed = forget_key(user)
    if removed:
        record("counter_day_closed", user, {"day": today().isoformat()}, actor=user)
        db.session.flush()
    return removed


def forget_key(user: User) -> bool:
    result = db.session.execute(delete(CounterKey).where(CounterKey.user_id == user.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@session_ended.connect
def _forget_at_logout(user: User, **_extra: Any) -> None:
    forget_key(user)


def purge_keys(reference: date | None = None) -> int:
    """Keys of days before `reference` (nightly): a day left open ends at midnight."""
    result = db.session.execute(
        delete(CounterKey).where(CounterKey.opened_on < (reference or today()))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Applying what the queue sent ---------------------------------------------------------------


@dataclass(frozen=True)
class QueuedDistribution:
    """One entry of the browser's queue, as sent. Parsed loosely: a bad entry is refused with
    a message, never an error that would stop the others."""

    key: str
    household_id: int | None
    site_id: int | None
    kind: str
    quantity: int
    distributed_on: date | None
    reason: str | None
    recorded_at: datetime | None

    @classmethod
    def parse(cls, raw: Any) -> QueuedDistribution | None:
        if not isinstance(raw, dict):
            return None
        key = raw.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            return None

        def integer(name: str) -> int | None:
            value = raw.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(str(raw.get(name)))
            except ValueError:
                return None

        try:
            moment = datetime.fromisoformat(str(raw.get("recorded_at")).replace("Z", "+00:00"))
        except ValueError:
            moment = None
        reason = raw.get("reason")
        return cls(
            key=key,
            household_id=integer("household_id"),
            site_id=integer("site_id"),
            kind=str(raw.get("kind") or "")[:32],
            quantity=integer("quantity") or 0,
            distributed_on=day("distributed_on"),
            reason=_text(reason) if isinstance(reason, str) else None,
            recorded_at=moment if moment is not None and moment.tzinfo is not None else None,
        )


def _text(value: str) -> str | None:
    """A reason as stored: no NUL (PostgreSQL refuses it), trimmed, at most 500 characters."""
    return value.replace("\x00", "").strip()[:REASON_MAX_LENGTH] or None


def find_entry(user: User, key: str) -> CounterEntry | None:
    return db.session.scalar(
        select(CounterEntry).where(CounterEntry.user_id == user.id, CounterEntry.key == key)
    )


def _refusal(item: QueuedDistribution, sites: list[Site]) -> str | None:
    if item.kind not in DISTRIBUTION_KINDS:
        return _("Tipo di distribuzione sconosciuto.")
    if not 1 <= item.quantity <= distributions.MAX_QUANTITY:
        return _("La quantità deve essere un numero intero da 1 a 100.")
    if item.distributed_on is None:
        return _("Data mancante o non valida.")
    if item.distributed_on > today():
        return _("La data non può essere nel futuro.")
    if item.distributed_on < today() - timedelta(days=OLDEST_DAYS):
        return _(
            "Registrata offline più di %(days)d giorni fa: registrala dal banco online.",
            days=OLDEST_DAYS,
        )
    if item.site_id not in {s.id for s in sites}:
        return _("Puoi registrare distribuzioni solo negli snodi del tuo ente.")
    return None


def apply(user: User, item: QueuedDistribution, sites: list[Site]) -> tuple[CounterEntry, bool]:
    """Apply one queued distribution, exactly once: (the entry, whether it is new). The caller
    commits. A second food basket of the month without a reason, or a hub with no stock left,
    is held for the operator (needs_reason, out_of_stock); what cannot be applied is refused.
    """
    earlier = find_entry(user, item.key)
    if earlier is not None:
        return earlier, False
    household = (
        db.session.scalar(visible_households(user).where(Household.id == item.household_id))
        if item.household_id is not None
        else None
    )
    entry = CounterEntry(
        key=item.key,
        user_id=user.id,
        organization_id=user.organization_id,
        household_id=household.id if household is not None else None,
        site_id=item.site_id if item.site_id in {s.id for s in sites} else None,
        kind=item.kind if item.kind in DISTRIBUTION_KINDS else "food_basket",
        quantity=max(item.quantity, 1),
        distributed_on=item.distributed_on or today(),
        recorded_at=item.recorded_at,
        reason=item.reason,
        status="refused",
    )
    db.session.add(entry)
    try:
        db.session.flush()  # the key is claimed first: a twin request waits here, then finds it
    except IntegrityError:
        db.session.rollback()
        twin = find_entry(user, item.key)
        if twin is None:
            raise
        return twin, False

    refusal = (
        _("Nucleo non trovato tra quelli del tuo ente.")
        if household is None
        else _refusal(item, sites)
    )
    if refusal is not None:
        entry.message = refusal
    else:
        site = next(s for s in sites if s.id == item.site_id)
        _record(entry, household, site, user)  # type: ignore[arg-type]
    _audit(
        "counter_entry_synced",
        entry,
        {
            "status": entry.status,
            "distributed_on": entry.distributed_on.isoformat(),
            "kind": entry.kind,
            "quantity": entry.quantity,
        },
        user,
    )
    return entry, True


def _audit(action: str, entry: CounterEntry, changes: dict[str, Any], user: User) -> None:
    """The event names the household (its timeline shows the entry), when there is one."""
    if entry.household_id is not None:
        record_views(action, [entry.household_id], entry, changes, actor=user)
    else:
        record(action, entry, changes, actor=user)
    db.session.flush()


def _record(entry: CounterEntry, household: Household, site: Site, user: User) -> None:
    """Record the entry's distribution, or hold it: in a savepoint, so that a refusal after
    the distribution was written (no stock) undoes it and keeps the entry."""
    try:
        with db.session.begin_nested():
            distribution = distributions.record_distribution(
                household,
                site,
                entry.kind,
                entry.quantity,
                entry.distributed_on,
                user,
                entry.reason,
            )
    except distributions.SecondBasketNeedsReason as second:
        entry.status, entry.message = "needs_reason", second.message
        return
    except OutOfStock as empty:
        entry.status, entry.message = "out_of_stock", empty.message
        return
    except DomainError as refused:
        entry.status, entry.message = "refused", refused.message
        return
    entry.status, entry.message = "recorded", None
    entry.distribution_id = distribution.id


def held_entry_or_none(user: User, entry_id: int) -> CounterEntry | None:
    """A held entry of the user's organization (a colleague may resolve it), locked; None
    when it is another organization's, or its household is no longer one the user may see."""
    from app.counter.queries import visible_ids  # queries reads the models this module writes

    entry = db.session.get(CounterEntry, entry_id)
    if entry is None or entry.organization_id != user.organization_id:
        return None
    if entry.household_id is not None and not visible_ids(user, [entry.household_id]):
        return None
    lock_row(CounterEntry, entry.id)
    db.session.refresh(entry)
    return entry


def resolve(entry: CounterEntry, user: User, sites: list[Site], reason: str | None) -> None:
    """Try the held entry again: with the reason a second basket needs, or after the stock was
    corrected. Raises DomainError when it is no longer held, or when it is held still."""
    if not entry.held:
        raise DomainError(_("Questa registrazione è già stata risolta."))
    if entry.household is None or entry.site_id not in {s.id for s in sites}:
        raise DomainError(_("Puoi registrare distribuzioni solo negli snodi del tuo ente."))
    if entry.status == "needs_reason":
        text = _text(reason or "")
        if not text:
            raise DomainError(
                _("Scrivi il motivo per registrare un altro paniere nello stesso mese.")
            )
        entry.reason = text
    before = entry.status
    _record(entry, entry.household, next(s for s in sites if s.id == entry.site_id), user)
    if entry.status == before:
        raise DomainError(entry.message or _("Non è stato possibile registrarla."))
    if entry.status == "recorded":
        entry.resolved_at, entry.resolved_by_id = utcnow(), user.id
    _audit("counter_entry_resolved", entry, {"status": entry.status, "was": before}, user)


def cancel(entry: CounterEntry, user: User) -> None:
    """The held entry is not recorded (entered by mistake): it stays in the list, cancelled."""
    if entry.status not in HELD:
        raise DomainError(_("Questa registrazione è già stata risolta."))
    before = entry.status
    entry.status, entry.resolved_at, entry.resolved_by_id = "cancelled", utcnow(), user.id
    _audit("counter_entry_cancelled", entry, {"was": before}, user)
