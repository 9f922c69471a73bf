"""The registry list: filters read from the URL, one query shared by the page and the CSV."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import Select, String, and_, cast, exists, func, or_, select
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.registry.models import Accreditation, Organization, Service
from app.registry.policy import accreditation_in_force, visible_organizations
from app.registry.vocabulary import (
    ACCREDITATION_STATUSES,
    LANGUAGES,
    ORGANIZATION_KINDS,
    SERVICE_TYPES,
)

PAGE_SIZE = 20
SORTS = ("nome", "circoscrizione", "scadenza")


@dataclass(frozen=True)
class OrganizationFilters:
    q: str = ""
    tipo: str = ""  # service type
    circ: int | None = None
    lingua: str = ""
    stato: str = ""  # accreditation status, or "nessuno"
    genere: str = ""  # organization kind
    ordina: str = "nome"
    pagina: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> OrganizationFilters:
        """Unknown or malformed values are ignored, never an error: the URL is user-editable."""
        circ = args.get("circ", type=int)
        page = args.get("pagina", type=int) or 1
        return cls(
            q=(args.get("q") or "").strip()[:100],
            tipo=args.get("tipo", "") if args.get("tipo") in SERVICE_TYPES else "",
            circ=circ if circ in range(1, 9) else None,
            lingua=args.get("lingua", "") if args.get("lingua") in LANGUAGES else "",
            stato=args.get("stato", "")
            if args.get("stato") in {*ACCREDITATION_STATUSES, "nessuno"}
            else "",
            genere=args.get("genere", "") if args.get("genere") in ORGANIZATION_KINDS else "",
            ordina=args.get("ordina", "nome") if args.get("ordina") in SORTS else "nome",
            pagina=max(min(page, 100000), 1),
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        """Query arguments for url_for: only what is set, so URLs stay short and shareable."""
        values = {**asdict(self), **overrides}
        defaults = asdict(OrganizationFilters())
        return {k: v for k, v in values.items() if v not in (None, "") and v != defaults[k]}


def filtered_organizations(
    user: User, filters: OrganizationFilters, today: date
) -> Select[tuple[Organization]]:
    query = visible_organizations(user).outerjoin(
        Accreditation, Accreditation.organization_id == Organization.id
    )
    if filters.q:
        like = f"%{filters.q.lower()}%"
        service_match = exists().where(
            Service.organization_id == Organization.id, func.lower(Service.name).like(like)
        )
        query = query.where(
            or_(
                func.lower(Organization.name).like(like),
                Organization.tax_code == filters.q.upper(),
                service_match,
            )
        )
    if filters.tipo or filters.lingua:
        conditions = [Service.organization_id == Organization.id, Service.active.is_(True)]
        if filters.tipo:
            conditions.append(Service.service_type == filters.tipo)
        if filters.lingua:
            conditions.append(cast(Service.languages, String).like(f'%"{filters.lingua}"%'))
        query = query.where(exists().where(*conditions))
    if filters.circ:
        query = query.where(Organization.circoscrizione == filters.circ)
    if filters.genere:
        query = query.where(getattr(Organization, f"is_{filters.genere}").is_(True))
    if filters.stato == "nessuno":
        query = query.where(Accreditation.id.is_(None))
    elif filters.stato == "active":
        query = query.where(accreditation_in_force(today))
    elif filters.stato == "expired":
        query = query.where(
            or_(
                Accreditation.status == "expired",
                and_(Accreditation.status == "active", Accreditation.expires_on < today),
            )
        )
    elif filters.stato:
        query = query.where(Accreditation.status == filters.stato)
    order = {
        "nome": (func.lower(Organization.name), Organization.id),
        "circoscrizione": (
            Organization.circoscrizione,
            func.lower(Organization.name),
            Organization.id,
        ),
        "scadenza": (
            Accreditation.expires_on.is_(None),
            Accreditation.expires_on,
            func.lower(Organization.name),
            Organization.id,
        ),
    }[filters.ordina]
    return query.order_by(*order)


def count_query(query: Select[tuple[Organization]]) -> Select[tuple[int]]:
    return select(func.count()).select_from(query.order_by(None).subquery())


def service_counts(org_ids: list[int]) -> dict[int, int]:
    from app.extensions import db

    if not org_ids:
        return {}
    rows = db.session.execute(
        select(Service.organization_id, func.count())
        .where(Service.organization_id.in_(org_ids), Service.active.is_(True))
        .group_by(Service.organization_id)
    )
    return dict(rows.all())  # type: ignore[arg-type]
