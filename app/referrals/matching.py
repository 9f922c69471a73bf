"""Matching: rank the job services that can take a person for a need. A pure function.

`rank()` knows nothing of the database: `queries.offers()` loads what it needs. Hard filters
(a service failing one never appears): service active, organization actively accredited, age
within the service's range, not parked by a decline of this person (the decline rules).
A service with no place left this month is not excluded: it is ranked after every service
with a place (the operator may put the person on its waiting list, issue #24); one with no
monthly places at all is. Only services whose type fits the need (its primary or related types)
are ranked (issue #26); the others can still be found by name and are
shown apart, with why they do not fit. Score factors, each with its reason and its points: service
type against the need, same circoscrizione (then a neighbouring one), a shared language for a
person whose file does not list Italian, youth focus for people aged 18-29, NEET focus, capacity
headroom.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.households.models import YOUTH_MAX_AGE, YOUTH_MIN_AGE
from app.referrals.vocabulary import NEEDS
from app.registry.models import NEIGHBOURS

PRIMARY_TYPE_POINTS = 40
RELATED_TYPE_POINTS = 20
SAME_DISTRICT_POINTS = 25
NEIGHBOUR_DISTRICT_POINTS = 10
LANGUAGE_POINTS = 15
YOUTH_POINTS = 10
NEET_POINTS = 5
HEADROOM_POINTS = 10  # all of them when every place of the month is free


@dataclass(frozen=True)
class Subject:
    """The person to refer, as matching sees them."""

    age: int | None
    languages: frozenset[str]
    circoscrizione: int
    neet: bool = False
    # Services that declined the person with a reason that parks the match (decline rules).
    parked: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Offer:
    """A service as matching sees it."""

    service_id: int
    organization_id: int
    service_type: str
    circoscrizioni: frozenset[int]
    languages: frozenset[str]
    age_min: int | None
    age_max: int | None
    youth_focus: bool
    neet_focus: bool
    capacity: int
    used: int  # places taken this month: accepted, and held by referrals in flight
    active: bool = True
    accredited: bool = True

    @cached_property
    def places_left(self) -> int:
        # Cached: the offers are kept for a while and scored for every person who asks.
        return max(self.capacity - self.used, 0)

    @property
    def full(self) -> bool:
        """No place left this month: a referral to it goes on its waiting list."""
        return self.places_left <= 0


@dataclass(frozen=True)
class Suggestion:
    offer: Offer
    score: int
    # (code, params): rendered in the user's language by `reason_text`.
    reasons: tuple[tuple[str, dict[str, Any]], ...] = field(default=())

    @property
    def service_id(self) -> int:
        return self.offer.service_id


def ineligibility(subject: Subject, offer: Offer) -> str | None:
    """Why the service cannot take the person at all, or None."""
    if not offer.active:
        return "service_inactive"
    if not offer.accredited:
        return "not_accredited"
    if offer.age_min is not None or offer.age_max is not None:
        if subject.age is None:
            return "age_unknown"
        if offer.age_min is not None and subject.age < offer.age_min:
            return "too_young"
        if offer.age_max is not None and subject.age > offer.age_max:
            return "too_old"
    if offer.service_id in subject.parked:
        return "parked"
    if offer.capacity <= 0:  # takes no referrals at all: not even a waiting list
        return "no_places"
    return None


def eligible_offers(subject: Subject, offers: Iterable[Offer]) -> list[Offer]:
    """The offers that can take the person at all (no `ineligibility()`), in their order."""
    return [offer for offer in offers if ineligibility(subject, offer) is None]


def fits_need(need: str, offer: Offer) -> bool:
    """The service's type answers the need (one of its primary or related types)."""
    _label, primary, related = NEEDS[need]
    return offer.service_type in primary or offer.service_type in related


def _scorer(
    subject: Subject, need: str
) -> Callable[[Offer, list[tuple[str, dict[str, Any]]] | None], int]:
    """The score of an offer for this person and need; with a list, also why (the reasons are
    only built for what is shown). What depends on the person alone is worked out once: the
    ranking scores every eligible service to show the best ten."""
    _label, primary, related = NEEDS[need]
    circ = subject.circoscrizione
    neighbours = NEIGHBOURS.get(circ, frozenset())
    # The language bonus helps only a person who lacks Italian: one whose file lists Italian
    # gets none, whatever else they speak.
    languages = frozenset() if "it" in subject.languages else subject.languages
    youth = subject.age is not None and YOUTH_MIN_AGE <= subject.age <= YOUTH_MAX_AGE

    def points(offer: Offer, reasons: list[tuple[str, dict[str, Any]]] | None = None) -> int:
        total = 0
        if offer.service_type in primary:
            total += PRIMARY_TYPE_POINTS
            if reasons is not None:
                reasons.append(
                    ("type_primary", {"type": offer.service_type, "points": PRIMARY_TYPE_POINTS})
                )
        elif offer.service_type in related:
            total += RELATED_TYPE_POINTS
            if reasons is not None:
                reasons.append(
                    ("type_related", {"type": offer.service_type, "points": RELATED_TYPE_POINTS})
                )
        if circ in offer.circoscrizioni:
            total += SAME_DISTRICT_POINTS
            if reasons is not None:
                reasons.append(("same_district", {"circ": circ, "points": SAME_DISTRICT_POINTS}))
        elif not neighbours.isdisjoint(offer.circoscrizioni):
            total += NEIGHBOUR_DISTRICT_POINTS
            if reasons is not None:
                near = offer.circoscrizioni & neighbours
                reasons.append(
                    ("neighbour_district", {"circ": min(near), "points": NEIGHBOUR_DISTRICT_POINTS})
                )
        if languages and not languages.isdisjoint(offer.languages):
            total += LANGUAGE_POINTS
            if reasons is not None:
                shared = languages & offer.languages
                reasons.append(
                    ("language", {"languages": sorted(shared), "points": LANGUAGE_POINTS})
                )
        if youth and offer.youth_focus:
            total += YOUTH_POINTS
            if reasons is not None:
                reasons.append(("youth", {"points": YOUTH_POINTS}))
        if subject.neet and offer.neet_focus:
            total += NEET_POINTS
            if reasons is not None:
                reasons.append(("neet", {"points": NEET_POINTS}))
        headroom = HEADROOM_POINTS * offer.places_left // offer.capacity if offer.capacity else 0
        total += headroom
        if reasons is not None:
            reasons.append(("places_left", {"n": offer.places_left, "points": headroom}))
        return total

    return points


def score(subject: Subject, need: str, offer: Offer) -> Suggestion:
    reasons: list[tuple[str, dict[str, Any]]] = []
    points = _scorer(subject, need)(offer, reasons)
    return Suggestion(offer=offer, score=points, reasons=tuple(reasons))


def rank(
    subject: Subject, need: str, offers: Iterable[Offer], limit: int | None = None
) -> list[Suggestion]:
    """Eligible services whose type fits the need, best first; ties broken by service id so
    the order is stable. Services with no place left this month come after all the others
    (the waiting list is the last resort).

    With `limit`, only the best `limit` (the same as the first of the whole ranking): at city
    scale thousands of services are scored, and only the shown ones need their reasons.
    """
    return rank_eligible(subject, need, eligible_offers(subject, offers), limit)


def rank_eligible(
    subject: Subject, need: str, eligible: Iterable[Offer], limit: int | None = None
) -> list[Suggestion]:
    """`rank()` of offers already through the hard filters (the referral form filters once
    and keeps the eligible ones to check the user's choice against). Services whose type does
    not fit the need are left out: see `unfitting()`."""
    eligible = [offer for offer in eligible if fits_need(need, offer)]
    if limit is not None:
        points = _scorer(subject, need)
        best = heapq.nsmallest(
            limit, eligible, key=lambda o: (o.full, -points(o, None), o.service_id)
        )
        return [score(subject, need, o) for o in best]
    suggestions = [score(subject, need, o) for o in eligible]
    return sorted(suggestions, key=lambda s: (s.offer.full, -s.score, s.offer.service_id))


def position(subject: Subject, need: str, eligible: Iterable[Offer], chosen: Suggestion) -> int:
    """The chosen service's place in the ranking (1 = the first suggestion), without scoring
    the reasons of the others; a service whose type does not fit the need comes after all that
    fit."""
    fitting = [offer for offer in eligible if fits_need(need, offer)]
    if not fits_need(need, chosen.offer):
        return len(fitting) + 1
    points = _scorer(subject, need)
    mine = (chosen.offer.full, -chosen.score, chosen.offer.service_id)  # rank()'s order
    return 1 + sum(
        1 for offer in fitting if (offer.full, -points(offer, None), offer.service_id) < mine
    )


def unfitting(need: str, eligible: Iterable[Offer]) -> list[Offer]:
    """The eligible services whose type does not answer the need: never ranked, shown apart
    (under "altri servizi") when the operator searches for them by name."""
    return [offer for offer in eligible if not fits_need(need, offer)]


def reasons_json(suggestion: Suggestion) -> list[list[Any]]:
    return [[code, params] for code, params in suggestion.reasons]
