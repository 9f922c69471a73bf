"""Matching: the reasons and points of a suggestion, the hard filters, and properties of rank().

A pure function: no database, no application context.
"""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.referrals import matching
from app.referrals.matching import (
    HEADROOM_POINTS,
    Offer,
    Subject,
    _scorer,
    eligible_offers,
    ineligibility,
    position,
    rank,
    reasons_json,
    score,
)
from app.referrals.vocabulary import NEEDS
from app.registry.models import NEIGHBOURS


def offer(service_id: int = 1, **fields: object) -> Offer:
    values: dict[str, object] = {
        "service_id": service_id,
        "organization_id": 100 + service_id,
        "service_type": "job_placement",
        "circoscrizioni": frozenset({5}),
        "languages": frozenset({"it"}),
        "age_min": None,
        "age_max": None,
        "youth_focus": False,
        "neet_focus": False,
        "capacity": 10,
        "used": 0,
    }
    values.update(fields)
    return Offer(**values)  # type: ignore[arg-type]


def subject(**fields: object) -> Subject:
    values: dict[str, object] = {
        "age": 35,
        "languages": frozenset({"it"}),
        "circoscrizione": 1,
    }
    values.update(fields)
    return Subject(**values)  # type: ignore[arg-type]


def codes(suggestion) -> list[str]:
    return [code for code, _params in suggestion.reasons]


def reason(suggestion, code: str) -> dict[str, object] | None:
    """A reason's parameters without its points (`points_of` reads those)."""
    params = next((params for c, params in suggestion.reasons if c == code), None)
    return None if params is None else {k: v for k, v in params.items() if k != "points"}


def points_of(suggestion, code: str) -> object:
    return next((params.get("points") for c, params in suggestion.reasons if c == code), None)


# Reasons and points -----------------------------------------------------------------------------


def test_same_circoscrizione_beats_a_neighbouring_one_which_beats_a_far_one():
    person = subject(circoscrizione=1)
    assert 2 in NEIGHBOURS[1]
    assert 6 not in NEIGHBOURS[1]
    same = offer(1, circoscrizioni=frozenset({1}))
    near = offer(2, circoscrizioni=frozenset({2}))
    far = offer(3, circoscrizioni=frozenset({6}))
    ranked = rank(person, "job_search", [far, near, same])
    assert [s.service_id for s in ranked] == [1, 2, 3]
    assert ranked[0].score > ranked[1].score > ranked[2].score
    assert reason(ranked[0], "same_district") == {"circ": 1}
    assert reason(ranked[1], "neighbour_district") == {"circ": 2}
    assert "same_district" not in codes(ranked[2])
    assert "neighbour_district" not in codes(ranked[2])


def test_a_service_with_a_site_in_the_persons_circoscrizione_counts_as_same():
    person = subject(circoscrizione=6)
    suggestion = score(person, "job_search", offer(circoscrizioni=frozenset({1, 6})))
    assert reason(suggestion, "same_district") == {"circ": 6}
    assert "neighbour_district" not in codes(suggestion)


def test_a_shared_language_is_a_reason_for_a_person_who_lacks_italian():
    person = subject(languages=frozenset({"ar"}))
    speaks = score(person, "job_search", offer(languages=frozenset({"it", "ar", "fr"})))
    italian_only = score(person, "job_search", offer(languages=frozenset({"it"})))
    assert reason(speaks, "language") == {"languages": ["ar"]}
    assert "language" not in codes(italian_only)
    assert speaks.score > italian_only.score


def test_no_language_bonus_for_a_person_whose_file_lists_italian():
    """Issue #26: a person who speaks Italian gains nothing from a service speaking Arabic."""
    person = subject(languages=frozenset({"it", "ar"}))
    arabic = score(person, "job_search", offer(languages=frozenset({"it", "ar"})))
    italian_only = score(person, "job_search", offer(languages=frozenset({"it"})))
    assert "language" not in codes(arabic)
    assert arabic.score == italian_only.score


def test_every_reason_carries_its_points_and_they_add_up_to_the_score():
    """Issue #26: the operator sees what each reason is worth."""
    person = subject(age=24, languages=frozenset({"ar"}), circoscrizione=5, neet=True)
    suggestion = score(
        person,
        "job_search",
        offer(languages=frozenset({"ar"}), youth_focus=True, neet_focus=True, used=5),
    )
    assert points_of(suggestion, "type_primary") == matching.PRIMARY_TYPE_POINTS
    assert points_of(suggestion, "same_district") == matching.SAME_DISTRICT_POINTS
    assert points_of(suggestion, "language") == matching.LANGUAGE_POINTS
    assert points_of(suggestion, "youth") == matching.YOUTH_POINTS
    assert points_of(suggestion, "neet") == matching.NEET_POINTS
    assert points_of(suggestion, "places_left") == HEADROOM_POINTS // 2
    assert suggestion.score == sum(params["points"] for _c, params in suggestion.reasons)


def test_every_shared_language_is_listed_in_order():
    person = subject(languages=frozenset({"ro", "ar", "fr"}))
    suggestion = score(person, "job_search", offer(languages=frozenset({"fr", "ro", "en"})))
    assert reason(suggestion, "language") == {"languages": ["fr", "ro"]}


@pytest.mark.parametrize(
    ("age", "youth"), [(17, False), (18, True), (24, True), (29, True), (30, False), (None, False)]
)
def test_youth_focus_counts_only_for_people_aged_18_to_29(age, youth):
    person = subject(age=age)
    focused = score(person, "job_search", offer(youth_focus=True))
    plain = score(person, "job_search", offer(youth_focus=False))
    assert ("youth" in codes(focused)) is youth
    assert "youth" not in codes(plain)
    assert (focused.score > plain.score) is youth


def test_neet_focus_counts_for_a_neet_person_only():
    service = offer(neet_focus=True)
    neet = score(subject(neet=True), "job_search", service)
    other = score(subject(neet=False), "job_search", service)
    assert "neet" in codes(neet)
    assert "neet" not in codes(other)
    assert neet.score > other.score


def test_a_primary_service_type_beats_a_related_one_and_an_unrelated_one_is_not_ranked():
    _label, primary, related = NEEDS["job_search"]
    assert "job_placement" in primary
    assert "counselling" in related
    assert "italian_language" not in primary | related
    ranked = rank(
        subject(),
        "job_search",
        [
            offer(1, service_type="italian_language"),
            offer(2, service_type="counselling"),
            offer(3, service_type="job_placement"),
        ],
    )
    # Issue #26: a service whose type does not answer the need is not "adatto" at all.
    assert [s.service_id for s in ranked] == [3, 2]
    assert reason(ranked[0], "type_primary") == {"type": "job_placement"}
    assert reason(ranked[1], "type_related") == {"type": "counselling"}
    unfit = matching.unfitting("job_search", [offer(1, service_type="italian_language")])
    assert [o.service_id for o in unfit] == [1]


def test_places_left_is_a_reason_with_the_number_and_headroom_adds_points():
    half = score(subject(), "job_search", offer(capacity=6, used=3))
    free = score(subject(), "job_search", offer(capacity=6, used=0))
    assert reason(half, "places_left") == {"n": 3}
    assert reason(free, "places_left") == {"n": 6}
    assert free.score - half.score == HEADROOM_POINTS - HEADROOM_POINTS * 3 // 6


def test_a_service_with_no_capacity_is_scored_without_failing():
    """A view may score the chosen service even when it has no places: no division by zero."""
    suggestion = score(subject(), "job_search", offer(capacity=0, used=0))
    assert reason(suggestion, "places_left") == {"n": 0}


def test_reasons_are_stored_as_json_lists():
    suggestion = score(subject(languages=frozenset({"ar"})), "job_search", offer(
        languages=frozenset({"ar"}), circoscrizioni=frozenset({1})
    ))  # fmt: skip
    assert reasons_json(suggestion) == [
        ["type_primary", {"type": "job_placement", "points": 40}],
        ["same_district", {"circ": 1, "points": 25}],
        ["language", {"languages": ["ar"], "points": 15}],
        ["places_left", {"n": 10, "points": 10}],
    ]


# Hard filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "service", "why"),
    [
        (subject(), offer(active=False), "service_inactive"),
        (subject(), offer(accredited=False), "not_accredited"),
        (subject(age=15), offer(age_min=16, age_max=29), "too_young"),
        (subject(age=30), offer(age_min=16, age_max=29), "too_old"),
        (subject(age=17), offer(age_min=18), "too_young"),
        (subject(age=66), offer(age_max=65), "too_old"),
        (subject(age=None), offer(age_min=18, age_max=29), "age_unknown"),
        (subject(age=None), offer(age_max=29), "age_unknown"),
        (subject(), offer(capacity=0, used=0), "no_places"),
    ],
)
def test_a_service_failing_a_hard_filter_is_never_suggested(person, service, why):
    assert ineligibility(person, service) == why
    assert rank(person, "job_search", [service]) == []


def test_a_full_service_is_suggested_after_every_service_with_a_place():
    """Issue #24: no place left this month is no longer a hard filter (the operator may put
    the person on the waiting list), but the waiting list is the last resort."""
    full = offer(service_id=1, capacity=3, used=3, circoscrizioni=frozenset({3}))
    over = offer(service_id=2, capacity=3, used=5, circoscrizioni=frozenset({3}))
    open_ = offer(service_id=3, capacity=3, used=2, circoscrizioni=frozenset({8}))
    assert full.full
    assert over.full
    assert not open_.full
    assert ineligibility(subject(), full) is None
    ranked = rank(subject(), "job_search", [full, over, open_])
    assert [s.service_id for s in ranked] == [3, 1, 2]
    assert [s.service_id for s in rank(subject(), "job_search", [full, over, open_], 2)] == [3, 1]


@pytest.mark.parametrize(
    ("age", "service"),
    [
        (16, offer(age_min=16, age_max=29)),
        (29, offer(age_min=16, age_max=29)),
        (None, offer()),
        (40, offer(capacity=3, used=2)),
    ],
)
def test_a_service_passing_every_filter_is_suggested(age, service):
    assert ineligibility(subject(age=age), service) is None
    assert [s.service_id for s in rank(subject(age=age), "job_search", [service])] == [1]


# Properties -------------------------------------------------------------------------------------

LANGUAGES = ["it", "ar", "fr", "en", "ro", "zh"]
TYPES = sorted({t for _l, p, r in NEEDS.values() for t in p | r} | {"housing", "information"})

subjects = st.builds(
    Subject,
    age=st.one_of(st.none(), st.integers(min_value=0, max_value=90)),
    languages=st.frozensets(st.sampled_from(LANGUAGES), max_size=3),
    circoscrizione=st.integers(min_value=1, max_value=8),
    neet=st.booleans(),
)


ages = st.integers(min_value=0, max_value=90)
age_ranges = st.one_of(
    st.tuples(st.none(), st.none()),
    st.tuples(ages, st.none()),
    st.tuples(st.none(), ages),
    st.tuples(ages, ages).map(sorted).map(tuple),
)


def make_offer(age_range: tuple[int | None, int | None], **fields: object) -> Offer:
    return Offer(service_id=0, age_min=age_range[0], age_max=age_range[1], **fields)  # type: ignore[arg-type]


offers = st.builds(
    make_offer,
    age_range=age_ranges,
    organization_id=st.integers(min_value=1, max_value=5),
    service_type=st.sampled_from(TYPES),
    circoscrizioni=st.frozensets(st.integers(min_value=1, max_value=8), min_size=1, max_size=3),
    languages=st.frozensets(st.sampled_from(LANGUAGES), max_size=3),
    youth_focus=st.booleans(),
    neet_focus=st.booleans(),
    capacity=st.integers(min_value=0, max_value=12),
    used=st.integers(min_value=0, max_value=14),
    active=st.sampled_from([True, True, True, False]),
    accredited=st.sampled_from([True, True, True, False]),
)


def offer_lists(min_size: int = 0) -> st.SearchStrategy[list[Offer]]:
    """Up to 8 services with distinct ids that do not follow the order of the list."""
    return st.lists(offers, min_size=min_size, max_size=8).map(
        lambda items: [
            dataclasses.replace(item, service_id=(index * 37) % 101 + 1)
            for index, item in enumerate(items)
        ]
    )


needs = st.sampled_from(sorted(NEEDS))
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(person=subjects, need=needs, services=offer_lists())
def test_rank_suggests_exactly_the_eligible_services(person, need, services):
    suggested = [s.service_id for s in rank(person, need, services)]
    eligible = {
        o.service_id
        for o in services
        if ineligibility(person, o) is None and matching.fits_need(need, o)
    }
    assert set(suggested) == eligible
    assert len(suggested) == len(eligible)
    for service in services:
        if ineligibility(person, service) is not None:
            assert service.service_id not in suggested


@PROPERTY
@given(person=subjects, need=needs, services=offer_lists())
def test_scoring_without_reasons_gives_the_same_points_as_with_them(person, need, services):
    """The ranking scores thousands of services without building their reasons: leaving the
    reasons out must never change a service's points."""
    points = _scorer(person, need)
    for service in services:
        assert points(service, None) == score(person, need, service).score


@PROPERTY
@given(
    person=subjects,
    need=needs,
    services=offer_lists(),
    limit=st.integers(min_value=0, max_value=12),
    seed=st.randoms(use_true_random=False),
)
def test_the_best_few_are_the_head_of_the_whole_ranking(person, need, services, limit, seed):
    """What the form shows (the best 10) is exactly the top of the full ranking, reasons too."""
    shuffled = list(services)
    seed.shuffle(shuffled)
    assert rank(person, need, shuffled, limit=limit) == rank(person, need, services)[:limit]


@PROPERTY
@given(person=subjects, need=needs, services=offer_lists(), seed=st.randoms(use_true_random=False))
def test_the_ranking_is_stable_and_best_first(person, need, services, seed):
    ranked = rank(person, need, services)
    assert rank(person, need, list(services)) == ranked
    shuffled = list(services)
    seed.shuffle(shuffled)
    assert [s.service_id for s in rank(person, need, shuffled)] == [s.service_id for s in ranked]
    assert rank(person, need, shuffled) == ranked
    # Each suggestion's place is its position in the ranking.
    for place, suggestion in enumerate(ranked, start=1):
        assert position(person, need, eligible_offers(person, services), suggestion) == place
    # Services with places first (a full one offers only its waiting list), then by score.
    for better, worse in itertools.pairwise(ranked):
        assert better.offer.full <= worse.offer.full
        if better.offer.full == worse.offer.full:
            assert better.score >= worse.score
            if better.score == worse.score:
                assert better.service_id < worse.service_id


@PROPERTY
@given(
    person=subjects,
    need=needs,
    services=offer_lists(min_size=1),
    pick=st.integers(min_value=0),
    extra=st.integers(min_value=1, max_value=20),
)
def test_adding_capacity_never_lowers_a_services_rank_or_score(person, need, services, pick, extra):
    index = pick % len(services)
    chosen = services[index]
    bigger = dataclasses.replace(chosen, capacity=chosen.capacity + extra)
    before = [s.service_id for s in rank(person, need, services)]
    after_ranked = rank(person, need, [*services[:index], bigger, *services[index + 1 :]])
    after = [s.service_id for s in after_ranked]
    if chosen.service_id in before:
        assert chosen.service_id in after
        assert after.index(chosen.service_id) <= before.index(chosen.service_id)
        old_score = score(person, need, chosen).score
        new_score = next(s.score for s in after_ranked if s.service_id == chosen.service_id)
        assert new_score >= old_score
    # The other services keep their relative order.
    others_before = [i for i in before if i != chosen.service_id]
    assert [i for i in after if i != chosen.service_id] == others_before


@PROPERTY
@given(person=subjects, need=needs, services=offer_lists())
def test_every_suggestion_says_how_many_places_are_left_and_sums_its_reasons(
    person, need, services
):
    points = {
        "type_primary": matching.PRIMARY_TYPE_POINTS,
        "type_related": matching.RELATED_TYPE_POINTS,
        "same_district": matching.SAME_DISTRICT_POINTS,
        "neighbour_district": matching.NEIGHBOUR_DISTRICT_POINTS,
        "language": matching.LANGUAGE_POINTS,
        "youth": matching.YOUTH_POINTS,
        "neet": matching.NEET_POINTS,
    }
    for suggestion in rank(person, need, services):
        service = suggestion.offer
        left = [params for code, params in suggestion.reasons if code == "places_left"]
        headroom = HEADROOM_POINTS * service.places_left // service.capacity
        assert left == [{"n": max(service.capacity - service.used, 0), "points": headroom}]
        assert (left[0]["n"] == 0) == service.full  # a full one is offered with its waiting list
        headroom = HEADROOM_POINTS * service.places_left // service.capacity
        assert 0 <= headroom <= HEADROOM_POINTS
        assert suggestion.score == headroom + sum(points.get(c, 0) for c in codes(suggestion))


def test_shuffling_with_many_ties_keeps_the_order():
    services = [
        offer(i, circoscrizioni=frozenset({3}), service_type="training") for i in range(1, 30)
    ]
    expected = [s.service_id for s in rank(subject(), "training", services)]
    assert expected == list(range(1, 30))
    for seed in range(20):
        shuffled = list(services)
        random.Random(seed).shuffle(shuffled)
        assert [s.service_id for s in rank(subject(), "training", shuffled)] == expected
