"""An approval against the ranking (issue #24): the service's place among the suggestions is
kept when the referral is sent; approving one that was not the first asks the coordinator why."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db as _db
from app.referrals.models import Referral, ReferralStatusChange
from tests import factories
from tests.test_referrals_views import net, post, text  # noqa: F401 (the fixture)
from tests.worlds import job_service_org, signed_in


def send(app, net, service, member: int = 0) -> Referral:  # noqa: F811
    """Sent through the form for one of the household's two members (one open referral per
    person and need)."""
    browser = signed_in(app, net.sender_user)
    response = post(
        browser,
        f"/referrals/new?household={net.household.id}",
        {
            "person": str(net.household.members[member].id),
            "need": "orientation",
            "service": str(service.id),
            "motivation": "Chiede un orientamento per tornare al lavoro.",
            "action": "submit",
        },
    )
    assert response.status_code == 303, text(response)
    return _db.session.scalars(select(Referral).order_by(Referral.id.desc())).first()


def second_choice(net):  # noqa: F811
    """A service farther away: ranked after the sender's own circoscrizione's."""
    far = job_service_org(circoscrizione=6)
    service = factories.service(far, name="Orientamento Barriera", service_type="orientation")
    _db.session.commit()
    return service


def test_the_place_in_the_ranking_is_kept_and_shown_to_the_city(app, net):  # noqa: F811
    far = second_choice(net)

    first = send(app, net, net.service)
    other = send(app, net, far, member=1)

    assert (first.match_rank, other.match_rank) == (1, 2)
    page = text(signed_in(app, net.coordinator).get(f"/referrals/{other.id}"))
    assert "2°: l'operatore ha scelto un servizio diverso dal primo suggerito" in page
    queue = text(signed_in(app, net.coordinator).get("/referrals/?status=submitted"))
    assert "Approva con motivo…" in queue
    assert "servizio al 2° posto tra i suggerimenti" in queue


def test_approving_against_the_ranking_without_a_reason_is_refused_next_to_the_note(
    app,
    net,  # noqa: F811
):
    far = second_choice(net)
    far_operator = factories.user(role="entity_operator", organization=far.organization)
    _db.session.commit()
    referral = send(app, net, far)
    coordinator = signed_in(app, net.coordinator)

    refused = post(coordinator, f"/referrals/{referral.id}/approve", {"note": "  "})

    assert refused.status_code == 422
    page = text(refused)
    note = page[page.index('id="approve-note"') :]
    assert "era al 2° posto tra i suggerimenti, non al primo" in note[: note.index("</details>")]
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "submitted"

    why = "L'ente più vicino non ha mediatori per la lingua della persona."
    done = post(coordinator, f"/referrals/{referral.id}/approve", {"note": why})

    assert done.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Referral, referral.id).status == "approved"
    step = _db.session.scalars(
        select(ReferralStatusChange).where(
            ReferralStatusChange.referral_id == referral.id,
            ReferralStatusChange.to_status == "approved",
        )
    ).one()
    assert step.note == why
    # The receiving entity reads why it was chosen.
    assert why in text(signed_in(app, far_operator).get(f"/referrals/{referral.id}"))


def test_the_first_suggestion_is_approved_with_one_click_and_bulk_skips_the_others(
    app,
    net,  # noqa: F811
):
    far = second_choice(net)
    first = send(app, net, net.service)
    other = send(app, net, far, member=1)
    coordinator = signed_in(app, net.coordinator)

    response = post(coordinator, "/referrals/bulk-approve", {"ids": [str(first.id), str(other.id)]})

    body = text(coordinator.get(response.headers["Location"]))
    assert "1 segnalazione approvata." in body
    assert f"n. {other.id}: Il servizio scelto era al 2° posto" in body
    _db.session.expire_all()
    assert _db.session.get(Referral, first.id).status == "approved"
    assert _db.session.get(Referral, other.id).status == "submitted"
