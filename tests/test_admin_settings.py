"""The admin's settings page: values with bounds, audited, refused when out of range."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from app.admin.models import get_setting, set_setting
from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.projects.finance import envelope_value
from app.referrals.queries import overdue_working_days
from app.rights.operations import retention_years
from tests.conftest import csrf_token_from

ENVELOPE = {
    "programme_programmed": "5.657.142,86",
    "programme_admitted": "5.657.142,86",
    "programme_binding": "5.657.142,86",
    "programme_disbursed": "5.657.142,36",
    "programme_line_a": "250.000,00",
    "programme_line_b": "2.907.142,86",
}

# The referral steps' limits (issue #24), at their defaults.
STALL = {
    "referral_approval_expiry_working_days": "20",
    "referral_answer_overdue_working_days": "5",
    "referral_answer_expiry_working_days": "20",
    "referral_outcome_overdue_working_days": "10",
    "referral_outcome_expiry_working_days": "30",
}


def _post(client, **values):
    token = csrf_token_from(client.get("/admin/settings").get_data(as_text=True))
    data = {
        "referral_overdue_working_days": "5",
        "household_retention_years": "5",
        "intake_disclosures_per_hour": "20",
        "supply_shortage_days": "5",
    }
    data.update(ENVELOPE)
    data.update(STALL)
    data.update({k: str(v) for k, v in values.items()})
    return client.post("/admin/settings", data={**data, "csrf_token": token})


def test_page_shows_the_current_values(client, login_as):
    set_setting("referral_overdue_working_days", 7)
    _db.session.commit()
    login_as("admin")

    html = client.get("/admin/settings").get_data(as_text=True)

    assert 'name="referral_overdue_working_days"' in html
    assert 'value="7"' in html
    assert 'value="5"' in html  # retention years: the default


def test_admin_changes_the_overdue_days_and_the_change_is_audited(client, login_as):
    login_as("admin")

    response = _post(client, referral_overdue_working_days=3)

    assert response.status_code == 303
    assert overdue_working_days() == 3
    assert retention_years() == 5
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_changed"))
    assert event.changes == {"referral_overdue_working_days": [5, 3]}


def test_out_of_range_or_not_a_number_is_refused_next_to_the_field(client, login_as):
    login_as("admin")

    response = _post(client, referral_overdue_working_days=0, household_retention_years="dieci")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Scegli un valore tra 1 e 60." in html
    assert "Scrivi un numero intero." in html
    assert 'value="0"' in html  # the input is kept
    assert get_setting("referral_overdue_working_days") is None
    assert (
        _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_changed"))
        is None
    )


def test_saving_unchanged_values_writes_nothing(client, login_as):
    login_as("admin")

    response = _post(client)

    assert response.status_code == 303
    assert (
        _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_changed"))
        is None
    )


def test_only_admins_reach_the_settings(client, login_as):
    login_as("coordinator")

    assert client.get("/admin/settings").status_code == 403


def test_envelope_amounts_are_typed_the_italian_way_and_stored_exactly(client, login_as):
    login_as("admin")

    response = _post(client, programme_line_b="3.000.000,50")

    assert response.status_code == 303
    assert envelope_value("programme_line_b") == Decimal("3000000.50")
    assert envelope_value("programme_line_a") == Decimal("250000.00")  # unchanged default
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_changed"))
    assert event.changes == {"programme_line_b": ["2907142.86", "3000000.50"]}
    html = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="3.000.000,50"' in html


def test_bad_envelope_amounts_are_refused_with_the_reason(client, login_as):
    login_as("admin")

    response = _post(
        client, programme_admitted="12,345", programme_binding="-5", programme_disbursed="tanti"
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un importo in euro ha al massimo due decimali." in html
    assert "L&#39;importo non può essere negativo." in html
    assert "Scrivi un importo in euro, per esempio 1.234,56." in html
    assert get_setting("programme_admitted") is None


def test_lines_a_and_b_cannot_exceed_the_programmed_amount(client, login_as):
    login_as("admin")

    response = _post(client, programme_line_b="5.500.000,00")

    assert response.status_code == 422
    assert "Le linee A e B insieme superano l&#39;importo programmato." in response.get_data(
        as_text=True
    )
    assert get_setting("programme_line_b") is None


def error_next_to(html: str, key: str) -> str:
    """The message shown under the field `key` ("" when it has none)."""
    match = re.search(rf'<div id="{key}-error"[^>]*>(.*?)</div>', html, re.S)
    return unescape(match.group(1)) if match else ""


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        (
            {"programme_disbursed": "6.000.000,00"},  # above programmed (and binding)
            "programme_disbursed",
            "L'importo erogato non può superare quello giuridicamente vincolante "
            "(€\xa05.657.142,86)",
        ),
        (
            {"programme_admitted": "5.000.000,00", "programme_binding": "5.500.000,00"},
            "programme_binding",
            "L'importo giuridicamente vincolante non può superare quello ammesso a finanziamento "
            "(€\xa05.000.000,00).",
        ),
        (
            {"programme_admitted": "5.700.000,00"},
            "programme_admitted",
            "L'importo ammesso a finanziamento non può superare quello programmato "
            "(€\xa05.657.142,86).",
        ),
        (  # only the programmed amount was changed: the message goes next to it
            {"programme_programmed": "5.000.000,00"},
            "programme_programmed",
            "L'importo programmato non può essere inferiore a quello ammesso a finanziamento "
            "(€\xa05.657.142,86).",
        ),
        (
            {"programme_binding": "1.000.000,00"},
            "programme_binding",
            "L'importo giuridicamente vincolante non può essere inferiore a quello erogato "
            "(€\xa05.657.142,36).",
        ),
    ],
    ids=[
        "disbursed-above-programmed",
        "binding-above-admitted",
        "admitted-above-programmed",
        "programmed-below-admitted",
        "binding-below-disbursed",
    ],
)
def test_the_four_figures_out_of_order_are_refused_next_to_the_field(
    client, login_as, typed, field, message
):
    login_as("admin")

    response = _post(client, **typed)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.replace("\xa0", " ") in error_next_to(html, field).replace("\xa0", " ")
    for value in typed.values():
        assert f'value="{value}"' in html  # what the admin typed is kept
    assert all(get_setting(key) is None for key in ENVELOPE)
    assert (
        _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_changed"))
        is None
    )


def test_an_htmx_post_out_of_order_answers_422_with_the_form(client, login_as):
    login_as("admin")
    token = csrf_token_from(client.get("/admin/settings").get_data(as_text=True))
    data = {
        "referral_overdue_working_days": "5",
        "household_retention_years": "5",
        "intake_disclosures_per_hour": "20",
        "supply_shortage_days": "5",
        **ENVELOPE,
        **STALL,
    }
    data["programme_disbursed"] = "9.999.999,00"

    response = client.post(
        "/admin/settings",
        data={**data, "csrf_token": token},
        headers={"HX-Request": "true", "HX-Request-Type": "partial"},
    )

    assert response.status_code == 422
    assert "non può superare" in error_next_to(
        response.get_data(as_text=True), "programme_disbursed"
    )
    assert get_setting("programme_disbursed") is None


def test_figures_in_order_are_saved(client, login_as):
    login_as("admin")

    response = _post(
        client,
        programme_programmed="6.000.000,00",
        programme_admitted="5.800.000,00",
        programme_binding="5.800.000,00",
        programme_disbursed="1.200.000,00",
    )

    assert response.status_code == 303
    assert envelope_value("programme_admitted") == Decimal("5800000.00")
    assert envelope_value("programme_disbursed") == Decimal("1200000.00")


def test_lowering_the_programmed_amount_below_lines_a_and_b_is_refused_next_to_it(client, login_as):
    login_as("admin")

    response = _post(
        client,
        programme_programmed="3.000.000,00",
        programme_admitted="3.000.000,00",
        programme_binding="3.000.000,00",
        programme_disbursed="3.000.000,00",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "L'importo programmato non può essere inferiore alle linee A e B insieme" in (
        error_next_to(html, "programme_programmed")
    )
    assert get_setting("programme_programmed") is None


def test_admin_sets_the_hourly_limit_of_intake_disclosures(client, login_as):
    login_as("admin")

    response = _post(client, intake_disclosures_per_hour=8)

    assert response.status_code == 303
    assert get_setting("intake_disclosures_per_hour") == 8


def test_a_step_that_would_expire_before_it_is_late_is_refused_next_to_the_expiry(client, login_as):
    login_as("admin")
    response = _post(
        client,
        referral_answer_overdue_working_days=8,
        referral_answer_expiry_working_days=8,
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html.split('name="referral_answer_expiry_working_days"')[1].split("</div>")[0]
    assert "La scadenza deve venire dopo il ritardo: indica più di 8 giorni." in field
    assert 'value="8"' in html  # what the admin typed stays in the form
    assert get_setting("referral_answer_overdue_working_days") is None  # nothing saved


def test_the_admin_moves_a_steps_expiry_and_the_nightly_run_uses_it(client, login_as):
    from app.referrals.queries import STALL_STEP_OF

    login_as("admin")
    response = _post(client, referral_outcome_expiry_working_days=45)

    assert response.status_code == 303
    assert STALL_STEP_OF["accepted"].limits() == (10, 45)
