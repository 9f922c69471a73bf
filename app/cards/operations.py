"""Issuing, revoking and reissuing household cards: lock, check, mutate, audit, flush. Views
commit. Every change names the household in the audit log (its timeline shows it)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from app.audit.operations import record_views
from app.auth.models import User
from app.auth.sealing import box
from app.cards import pdf
from app.cards.models import REVOKE_REASONS, HouseholdCard
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.households.models import Household
from app.i18n import gettext as _
from app.registry.models import Site
from app.web.formatting import format_date
from app.workflow import lock_row

PROGRAMME = "Torino Solidale · Reti di comunità per l'inclusione"
TOKEN_BYTES = 20  # 160 bits: 32 base32 characters, no padding
_TOKEN = re.compile(r"^[A-Z2-7]{32}$")
NOTE_MAX_LENGTH = 500


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


def normalised_token(typed: str | None) -> str | None:
    """What a scanner typed or a camera read: upper case, spaces and dashes dropped. None when
    it cannot be a card's token (nothing is looked up then)."""
    value = re.sub(r"[\s-]", "", (typed or "")).upper()
    return value if _TOKEN.match(value) else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _box() -> Fernet:
    return box(b"household card")


def card_token(card: HouseholdCard) -> str:
    """The token of the card, unsealed to print it again."""
    return _box().decrypt(card.token_sealed.encode("ascii")).decode("ascii")


def active_card(household: Household) -> HouseholdCard | None:
    return db.session.scalar(
        select(HouseholdCard).where(
            HouseholdCard.household_id == household.id, HouseholdCard.revoked_at.is_(None)
        )
    )


def _check_can_issue(household: Household, site: Site, actor: User) -> None:
    if household.status != "active" or household.anonymised_at is not None:
        raise DomainError(_("Il nucleo non è più in carico: non si stampano tessere."))
    if actor.organization_id is None or site.organization_id != actor.organization_id:
        raise DomainError(_("Puoi stampare tessere solo per gli snodi del tuo ente."))
    if not site.is_hub:
        raise DomainError(_("Questa sede non è uno snodo di distribuzione."))


def _issue(household: Household, site: Site, actor: User, action: str) -> HouseholdCard:
    token = new_token()
    card = HouseholdCard(
        household_id=household.id,
        organization_id=site.organization_id,
        site_id=site.id,
        token_hash=token_hash(token),
        token_sealed=_box().encrypt(token.encode("ascii")).decode("ascii"),
        issued_at=utcnow(),
        issued_by_id=actor.id,
    )
    db.session.add(card)
    db.session.flush()
    record_views(action, [household], card, {"site_id": site.id, "site": site.name}, actor=actor)
    return card


def issue_card(household: Household, site: Site, actor: User) -> HouseholdCard:
    """A first card for the household, at `site`. Refused when one is active: the household
    row is held (two colleagues issuing at once: the second sees the first's card), and the
    partial unique index stands behind the rule."""
    _check_can_issue(household, site, actor)
    lock_row(Household, household.id)
    if active_card(household) is not None:
        raise DomainError(
            _("Il nucleo ha già una tessera attiva: se è persa o rovinata, revocala e ristampala.")
        )
    card = _issue(household, site, actor, "household_card_issued")
    db.session.flush()
    return card


def _revoke(card: HouseholdCard, reason: str, note: str | None, actor: User) -> None:
    if reason not in REVOKE_REASONS:
        raise DomainError(_("Scegli il motivo della revoca."))
    note = (note or "").strip()[:NOTE_MAX_LENGTH] or None
    if reason == "other" and note is None:
        raise DomainError(_("Scrivi il motivo della revoca."))
    now = utcnow()
    done = db.session.execute(
        update(HouseholdCard)
        .where(HouseholdCard.id == card.id, HouseholdCard.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id, revoke_reason=reason, revoke_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not done:
        db.session.refresh(card)
        raise DomainError(
            _("La tessera è già stata revocata il %(date)s.", date=format_date(card.revoked_at))
        )
    db.session.refresh(card)
    record_views(
        "household_card_revoked",
        [card.household_id],
        card,
        {"reason": reason, "note": note},
        actor=actor,
    )


def revoke_card(household: Household, reason: str, note: str | None, actor: User) -> HouseholdCard:
    """Block the household's active card (lost, stolen, damaged, other): its token is refused
    at every counter from now on."""
    lock_row(Household, household.id)
    card = active_card(household)
    if card is None:
        raise DomainError(_("Il nucleo non ha una tessera attiva."))
    _revoke(card, reason, note, actor)
    db.session.flush()
    return card


def reissue_card(
    household: Household, site: Site, reason: str, note: str | None, actor: User
) -> HouseholdCard:
    """A lost card in one step: the active card (if any) is revoked with `reason`, a new one
    with a new token is issued at `site`. Both or neither: the view commits once."""
    _check_can_issue(household, site, actor)
    lock_row(Household, household.id)
    old = active_card(household)
    if old is not None:
        _revoke(old, reason, note, actor)
    card = _issue(household, site, actor, "household_card_reissued")
    db.session.flush()
    return card


def record_download(card: HouseholdCard, actor: User) -> None:
    """Printing (downloading the PDF) is audited: the card opens the household at a counter."""
    record_views("household_card_downloaded", [card.household_id], card, actor=actor)


def card_pdf(card: HouseholdCard) -> bytes:
    """The A6 card: the hub's and programme's names, the card number and issue date, and a QR
    code carrying only the token. Nothing about the household or its members."""
    width, height = pdf.A6
    left = 12 * pdf.MM
    matrix = pdf.qr_matrix(card_token(card))
    module = min(150 / len(matrix), 5.0)
    qr_size = module * len(matrix)
    qr_bottom = 118.0  # four modules of white (the quiet zone) above the texts below
    lines = [
        pdf.Line("Torino Solidale", left, height - 40, 16, bold=True),
        pdf.Line("Reti di comunità per l'inclusione", left, height - 55, 9),
        pdf.Line(_("Tessera del nucleo"), left, height - 80, 12, bold=True),
    ]
    hub = _wrapped(card.site.name, 36)[:2]
    y = height - 98
    for text in hub:
        lines.append(pdf.Line(text, left, y, 10, bold=True))
        y -= 13
    for text in _wrapped(card.organization.name, 44)[:2]:
        lines.append(pdf.Line(text, left, y, 9))
        y -= 12
    lines += [
        pdf.Line(_("Tessera n. %(number)s", number=card.number), left, 86, 10, bold=True),
        pdf.Line(_("Emessa il %(date)s", date=format_date(card.issued_at)), left, 72, 9),
        pdf.Line(_("Mostrala allo snodo a ogni ritiro."), left, 54, 8),
        pdf.Line(_("Se la perdi, avvisa lo snodo: sarà bloccata e ristampata."), left, 43, 8),
        pdf.Line(PROGRAMME, left, 22, 7),
    ]
    content = pdf.page_content(lines, matrix, (width - qr_size) / 2, qr_bottom + qr_size, module)
    return pdf.one_page_pdf(content, title=_("Tessera del nucleo") + f" {card.number}")


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of about `width` characters (Helvetica at 9-10 points on an A6 card)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines
