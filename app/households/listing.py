"""The household list's rules in one place: its filters, its query, its file's rows.

The list page (`views.index`), its export made in the request (`views._household_export`) and the
export prepared by the background worker (`background.build`) all read the list through here,
so a filter, a column or a scope rule cannot differ between them (#20, #22).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.extensions import db
from app.households import codice_fiscale as cf
from app.households.models import MEMBER_ORDER, Household, Person
from app.households.policy import sees_every_household, visible_households
from app.households.vocabulary import HOUSEHOLD_STATUSES, NEEDS
from app.i18n import gettext as _
from app.registry.models import Organization
from app.web.search_token import search_text, search_token
from app.workdays import local_date

STATES = ("active", "closed", "tutti")
DEFAULTS: dict[str, object] = {"stato": "active", "pagina": 1}


@dataclass(frozen=True)
class HouseholdFilters:
    q: str = ""
    circ: int | None = None
    bisogno: str = ""
    stato: str = "active"
    pagina: int = 1
    # Whose list it is: a URL carries the search text as a token only this user can read.
    user_id: int | None = field(default=None, compare=False)

    @classmethod
    def from_args(cls, args: MultiDict[str, str], user_id: int) -> HouseholdFilters:
        """The filters of the form (POST) or of the URL, where the search text is a token
        that only `user_id` can read."""
        circ = args.get("circ", type=int)
        q = args.get("q") or search_text(args.get("cerca"), user_id)
        return cls(
            q=q.strip()[:100],
            circ=circ if circ in range(1, 9) else None,
            bisogno=args.get("bisogno", "") if args.get("bisogno") in NEEDS else "",
            stato=args.get("stato", "active") if args.get("stato") in STATES else "active",
            pagina=max(min(args.get("pagina", 1, type=int) or 1, 100000), 1),
            user_id=user_id,
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HouseholdFilters:
        """The filters as `audit_args` stored them (a background export's parameters)."""
        circ = params.get("circ")
        bisogno = str(params.get("bisogno", ""))
        stato = str(params.get("stato", "active"))
        return cls(
            q=str(params.get("q", "")).strip()[:100],
            circ=circ if isinstance(circ, int) and circ in range(1, 9) else None,
            bisogno=bisogno if bisogno in NEEDS else "",
            stato=stato if stato in STATES else "active",
        )

    def url_args(self, **overrides: object) -> dict[str, object]:
        """The filters for a URL (the templates' page links): the search text only as a token
        of `user_id` (app.web.search_token)."""
        values = self.audit_args(**overrides)
        text = values.pop("q", None)
        if not text:
            return values
        if self.user_id is None:
            raise ValueError("a search in a URL needs the user whose token it is")
        return {"cerca": search_token(str(text), self.user_id), **values}

    def audit_args(self, **overrides: object) -> dict[str, object]:
        """The filters that differ from their defaults, as the audit log and exports keep them."""
        values: dict[str, object] = {
            "q": self.q,
            "circ": self.circ,
            "bisogno": self.bisogno,
            "stato": self.stato,
            "pagina": self.pagina,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "") and DEFAULTS.get(k) != v}


def name_matches(q: str) -> Select[tuple[int]]:
    """The households with a member whose codice fiscale is `q`, or whose name starts with it
    ("rossi", "rossi ma", "mario rossi"), as a subquery of household ids.

    Each name condition is an index range on the lower-cased name (ix_person_lower_*) narrowed
    by the full pattern, so a search reads a few index entries, not 250,000 people.
    """
    term = " ".join(q.lower().split())
    word = term.split(" ")[0]
    after = word[:-1] + chr(ord(word[-1]) + 1)
    last, first = func.lower(Person.last_name), func.lower(Person.first_name)

    def starting_with_word(name: Any, full: Any) -> Any:
        return and_(name >= word, name < after, or_(name.like(f"{term}%"), full.like(f"{term}%")))

    return select(Person.household_id).where(
        or_(
            Person.codice_fiscale == cf.normalise(q),
            starting_with_word(last, func.lower(Person.last_name + " " + Person.first_name)),
            starting_with_word(first, func.lower(Person.first_name + " " + Person.last_name)),
        )
    )


def _named(user: User, q: str) -> ColumnElement[bool]:
    """The households of the search, as a WHERE clause, scope first.

    A city-wide user looks the names up in the name indexes (`IN`). For a scoped user, the same
    `IN` would collect every person of the city whose name starts with a short prefix ("ma":
    thousands of people at 100,000 households) before keeping the scope's: the cost grew with
    the city. Asked per household of the scope (`EXISTS` on `ix_person_household_id`), it grows
    with the scope only (#21; tests/test_households_search_cost.py).
    """
    if sees_every_household(user):
        return Household.id.in_(name_matches(q))
    return name_matches(q).where(Person.household_id == Household.id).exists()


def filtered_households(user: User, filters: HouseholdFilters) -> Select[tuple[Household]]:
    """The households of the list: the user's own scope, narrowed by the filters (unordered)."""
    query = visible_households(user)
    if filters.q:
        query = query.where(_named(user, filters.q))
    if filters.circ:
        query = query.where(Household.circoscrizione == filters.circ)
    if filters.bisogno:
        query = query.where(cast(Household.needs, String).like(f'%"{filters.bisogno}"%'))
    if filters.stato != "tutti":
        query = query.where(Household.status == filters.stato)
    return query


def page_of(query: Select[tuple[Household]], page: int, size: int) -> list[Household]:
    """One page of the list, newest first, with its members (the names shown)."""
    return list(
        db.session.scalars(
            query.options(selectinload(Household.members))
            .order_by(Household.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        )
    )


def count_households(user: User, filters: HouseholdFilters) -> int:
    """How many households the list holds (all of them, not capped as the page's count is)."""
    ids = filtered_households(user, filters).with_only_columns(Household.id).subquery()
    return int(db.session.scalar(select(func.count()).select_from(ids)) or 0)


def _newest(query: Select[tuple[int]], limit: int, before: int | None) -> list[int]:
    if before is not None:
        query = query.where(Household.id < before)
    return list(db.session.scalars(query.order_by(Household.id.desc()).limit(limit)))


def newest_ids(user: User, filters: HouseholdFilters, limit: int) -> list[int]:
    """The ids of the list, newest first, at most `limit` of them."""
    return _newest(filtered_households(user, filters).with_only_columns(Household.id), limit, None)


def batches(user: User, filters: HouseholdFilters, size: int) -> Iterator[list[int]]:
    """The ids of the whole list, newest first, `size` at a time: each batch is one short
    query below the last id of the one before (keyset), so neither the database nor this
    process holds more than a batch, and the caller may commit between two batches.
    """
    query = filtered_households(user, filters).with_only_columns(Household.id)
    before: int | None = None
    while True:
        batch = _newest(query, size, before)
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        before = batch[-1]


def export_header() -> list[str]:
    return [
        _("N. nucleo"), _("Persona di riferimento"), _("Componenti"), _("Circoscrizione"),
        _("Indirizzo"), _("Bisogni"), _("Ente"), _("Stato"), _("Presa in carico il"),
        _("Chiusa il"),
    ]  # fmt: skip


ROWS_PER_STATEMENT = 1000


def export_rows(household_ids: Sequence[int]) -> Iterator[list[Any]]:
    """The file's row (the columns of `export_header`) of each of these households, in their
    order; the caller chose them from the user's own list (`filtered_households`).

    Plain rows, not ORM objects, two statements per ROWS_PER_STATEMENT households: the
    households with their organization's name, and their members in the order of
    `Household.members`, whose first reference person names the household as
    `Household.display_name` does. A city-wide file (100,000 households) is read in seconds
    and never held whole in memory. The labels of the vocabularies are translated once.
    """
    needs = {code: str(label) for code, label in NEEDS.items()}
    statuses = {code: str(label) for code, label in HOUSEHOLD_STATUSES.items()}
    for start in range(0, len(household_ids), ROWS_PER_STATEMENT):
        chunk = list(household_ids[start : start + ROWS_PER_STATEMENT])
        households = {
            row.id: row
            for row in db.session.execute(
                select(
                    Household.id,
                    Household.circoscrizione,
                    Household.address,
                    Household.needs,
                    Household.status,
                    Household.created_at,
                    Household.closed_on,
                    Organization.name.label("organization"),
                )
                .join(Organization, Organization.id == Household.organization_id)
                .where(Household.id.in_(chunk))
            )
        }
        members: dict[int, int] = dict.fromkeys(chunk, 0)
        names: dict[int, str] = {}
        for person in db.session.execute(
            select(Person.household_id, Person.relation, Person.first_name, Person.last_name)
            .where(Person.household_id.in_(chunk))
            .order_by(Person.household_id, *MEMBER_ORDER)
        ):
            members[person.household_id] += 1
            if person.relation == "reference" and person.household_id not in names:
                names[person.household_id] = f"{person.last_name} {person.first_name}"
        for household_id in chunk:
            household = households.get(household_id)
            if household is None:  # deleted since it was listed
                continue
            yield [
                household.id,
                names.get(household.id, f"#{household.id}"),
                members[household.id],
                household.circoscrizione,
                household.address or "",
                ", ".join(needs.get(code, code) for code in household.needs or []),
                household.organization,
                statuses.get(household.status, household.status),
                local_date(household.created_at),
                household.closed_on,
            ]
