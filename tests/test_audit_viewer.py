"""The audit viewer: readers, filters, pages, masked values for admins, exports, immutability."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app.audit import views as audit_views
from app.audit.models import AuditEvent
from app.audit.operations import AuditLogImmutableError
from app.extensions import db as _db
from app.referrals.models import Referral
from tests import factories

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
BASE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Turin


def event(action="household_updated", obj=None, changes=None, actor=None, at=None, **fields):
    values = {
        "action": action,
        "object_type": getattr(obj, "__tablename__", None),
        "object_id": getattr(obj, "id", None),
        "changes": changes,
        "actor_id": getattr(actor, "id", None),
        "actor_organization_id": getattr(actor, "organization_id", None),
        "ip_address": "192.0.2.7",
        "created_at": at or BASE,
    }
    values.update(fields)
    row = AuditEvent(**values)
    _db.session.add(row)
    _db.session.flush()
    return row


def csv_rows(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))


def exported_events():
    return _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit_exported")
    ).all()


# Who reads it --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    assert client.get("/audit/export.csv").status_code in (302, 303)


@pytest.mark.parametrize("role", ["entity_operator", "housing_provider"])
@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv", "/audit/export.xlsx"])
def test_entities_and_providers_are_refused(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinator_and_admin_read_the_log(client, login_as, role):
    login_as(role)
    response = client.get("/audit/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Registro attività" in html
    assert "accesso al portale" in html  # their own login, in Italian


# What a row shows ----------------------------------------------------------------------------


def test_row_shows_rome_time_actor_organization_label_object_changes_and_ip(client, login_as):
    login_as("coordinator")
    org = factories.organization(name="Cooperativa Aurora")
    operator = factories.user("entity_operator", org, full_name="Giulia Ferraris")
    household = factories.household(org)
    event(
        "household_updated",
        household,
        {"address": ["Via Roma 1", "Via Po 2"]},
        operator,
        at=datetime(2026, 7, 1, 10, 30, tzinfo=UTC),
    )
    _db.session.commit()
    html = client.get("/audit/?azione=household_updated").get_data(as_text=True)
    assert "01/07/2026 12:30" in html  # summer time in Turin
    assert "Giulia Ferraris" in html
    assert "Cooperativa Aurora" in html
    assert "dati del nucleo modificati" in html
    assert f'href="/households/{household.id}"' in html
    assert f"nucleo familiare n. {household.id}" in html
    assert "Via Roma 1" in html
    assert "Via Po 2" in html
    assert "192.0.2.7" in html


def test_admin_sees_which_fields_changed_but_not_personal_values(client, login_as):
    login_as("admin")
    org = factories.organization(name="Ente Trasparente")
    household = factories.household(org)
    person = household.members[0]
    event("person_updated", person, {"last_name": ["Rossi", "Russo"]})
    event("household_updated", household, {"address": ["Via Segreta 1", "Via Segreta 2"]})
    event("households_exported", None, {"filters": {"q": "Bianchi"}, "rows": 3})
    event("organization_updated", org, {"phone": ["011 111", "011 222"]})
    _db.session.commit()
    html = client.get("/audit/").get_data(as_text=True)
    for secret in ("Rossi", "Russo", "Via Segreta", "Bianchi"):
        assert secret not in html
    assert "Cognome" in html
    assert "Indirizzo" in html
    assert "last_name" not in html
    assert "valore nascosto" in html
    # No household data: the organization's changes stay readable.
    assert "011 222" in html
    # An admin never gets a link to a household page; an organization page is theirs to open.
    assert f'href="/households/{household.id}"' not in html
    assert f"nucleo familiare n. {household.id}" in html
    assert f'href="/entities/{org.id}"' in html


def test_admin_export_is_masked_too(client, login_as):
    login_as("admin")
    household = factories.household()
    event("household_updated", household, {"address": ["Via Segreta 1", "Via Segreta 2"]})
    _db.session.commit()
    body = client.get("/audit/export.csv").get_data(as_text=True)
    assert "Via Segreta" not in body
    assert "Indirizzo: valore nascosto → valore nascosto" in body


def test_links_only_to_objects_the_reader_may_open(client, login_as):
    login_as("coordinator")
    org = factories.organization()
    household = factories.household(org)
    receiving = factories.service(factories.organization())
    draft = Referral(
        household_id=household.id,
        person_id=household.members[0].id,
        from_organization_id=org.id,
        service_id=receiving.id,
        to_organization_id=receiving.organization_id,
        need="orientation",
        motivation="Orientamento",
        status="draft",
    )
    _db.session.add(draft)
    _db.session.flush()
    event("referral_created", draft)
    _db.session.commit()
    html = client.get("/audit/?tipo=referral").get_data(as_text=True)
    # A draft never reached the City: the coordinator could not open it.
    assert f"segnalazione n. {draft.id}" in html
    assert f'href="/referrals/{draft.id}"' not in html


def test_links_cost_the_same_statements_whatever_objects_the_page_is_about(client, login_as):
    login_as("coordinator")
    org = factories.organization()
    households = [factories.household(org) for _ in range(3)]
    for household in households:
        event("household_updated", household, at=BASE)
    _db.session.commit()

    def statements_for_page() -> tuple[int, str]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa_event.listen(_db.engine, "before_cursor_execute", count)
        try:
            html = client.get("/audit/").get_data(as_text=True)
        finally:
            sa_event.remove(_db.engine, "before_cursor_execute", count)
        return len(seen), html

    client.get("/audit/")  # the layout's user and badge are then kept (app/web/versions.py)
    one_type, _ = statements_for_page()
    event("organization_updated", org, at=BASE + timedelta(minutes=1))
    event("household_viewed", households[0], at=BASE + timedelta(minutes=2))
    _db.session.commit()
    two_types, html = statements_for_page()
    assert two_types == one_type
    # Both kinds of object are still links the coordinator can follow.
    assert f'href="/entities/{org.id}"' in html
    for household in households:
        assert f'href="/households/{household.id}"' in html


# Filters -------------------------------------------------------------------------------------


def test_filters_by_action_user_organization_object_and_period(client, login_as):
    login_as("coordinator")
    org_a = factories.organization(name="Ente A")
    org_b = factories.organization(name="Ente B")
    anna = factories.user("entity_operator", org_a, full_name="Anna Esposito", username="aesposito")
    bruno = factories.user("entity_operator", org_b, full_name="Bruno Gallo", username="bgallo")
    household = factories.household(org_a)
    other = factories.household(org_b)
    event("household_viewed", household, actor=anna, at=BASE, ip_address="198.51.100.1")
    event(
        "household_viewed",
        other,
        actor=bruno,
        at=BASE + timedelta(days=5),
        ip_address="198.51.100.2",
    )
    event(
        "distribution_recorded",
        other,
        actor=bruno,
        at=BASE + timedelta(days=10),
        ip_address="198.51.100.3",
    )
    _db.session.commit()

    def ips(query):
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return {ip for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3") if ip in html}

    assert ips("azione=household_viewed") == {"198.51.100.1", "198.51.100.2"}
    assert ips("utente=aesp") == {"198.51.100.1"}
    assert ips("utente=gallo") == {"198.51.100.2", "198.51.100.3"}
    assert ips(f"ente={org_b.id}") == {"198.51.100.2", "198.51.100.3"}
    assert ips(f"tipo=household&oggetto={household.id}") == {"198.51.100.1"}
    assert ips("dal=2026-03-14&al=2026-03-16") == {"198.51.100.2"}
    assert ips("dal=15/03/2026") == {"198.51.100.2", "198.51.100.3"}
    assert ips("al=2026-03-10") == {"198.51.100.1"}


def test_action_filter_offers_known_actions_in_italian(client, login_as):
    login_as("coordinator")
    html = client.get("/audit/").get_data(as_text=True)
    assert '<option value="referral_approved">segnalazione approvata dalla Città</option>' in html


def test_period_ending_before_it_starts_says_so_next_to_the_field(client, login_as):
    login_as("coordinator")
    response = client.get("/audit/?dal=2026-03-20&al=2026-03-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="al-feedback"' in html
    feedback = html.split('id="al-feedback"', 1)[1].split("</div>", 1)[0]
    assert "La data finale viene prima di quella iniziale" in feedback
    assert 'value="2026-03-01"' in html  # the input is kept
    assert "Scarica CSV" not in html


def test_period_error_in_live_filtering_updates_the_message_out_of_band(client, login_as):
    login_as("coordinator")
    response = client.get("/audit/?dal=2026-03-20&al=2026-03-01", headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="al-feedback"' in html
    assert 'hx-swap-oob="true"' in html
    assert "La data finale viene prima di quella iniziale" in html
    # Fixed: the message is cleared the same way.
    fixed = client.get("/audit/?dal=2026-03-01&al=2026-03-20", headers=HTMX)
    assert fixed.status_code == 200
    assert "La data finale" not in fixed.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "dal=2026-13-45",
        "al=0001-01-01",
        "dal=9999-12-31",
        "dal=ieri",
        "oggetto=99999999999999999999",
        "ente=abc",
        "prima=-5",
        "dopo=99999999",
        "azione=%27%3B+DROP+TABLE",
        "tipo=nope",
        "utente=%25_%5C",
    ],
)
def test_bad_filters_never_fail(client, login_as, query):
    login_as("coordinator")
    response = client.get(f"/audit/?{query}")
    assert response.status_code in (200, 422)
    assert client.get(f"/audit/export.csv?{query}").status_code in (200, 422)


def test_bad_date_gets_a_message(client, login_as):
    login_as("coordinator")
    response = client.get("/audit/?dal=2026-02-30")
    assert response.status_code == 422
    assert "Scrivi una data valida" in response.get_data(as_text=True)


def test_live_filtering_answers_a_fragment_with_a_clean_address(client, login_as):
    login_as("coordinator")
    response = client.get("/audit/?azione=login&utente=&ente=&tipo=", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    assert response.headers["HX-Push-Url"] == "/audit/?azione=login"


# Pages ---------------------------------------------------------------------------------------


def test_pages_of_fifty_newest_first_with_cursor_links(client, login_as):
    login_as("coordinator")
    for n in range(120):
        event("settings_changed", None, {"n": n}, at=BASE + timedelta(minutes=n))
    _db.session.commit()

    def numbers(html):
        return [int(part.split("<", 1)[0]) for part in html.split("N</span>: ")[1:]]

    first = client.get("/audit/?azione=settings_changed").get_data(as_text=True)
    assert "120 eventi trovati" in first
    assert numbers(first) == list(range(119, 69, -1))
    assert "Più recenti" not in first
    last_id = _db.session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.action == "settings_changed")
        .order_by(AuditEvent.created_at.desc())
        .offset(49)
        .limit(1)
    )
    assert f"prima={last_id}" in first
    second = client.get(f"/audit/?azione=settings_changed&prima={last_id}").get_data(as_text=True)
    assert numbers(second) == list(range(69, 19, -1))
    assert "I più recenti" in second
    third_cursor = second.split("prima=")[1].split('"')[0]
    third = client.get(f"/audit/?azione=settings_changed&prima={third_cursor}").get_data(
        as_text=True
    )
    assert numbers(third) == list(range(19, -1, -1))
    assert "Meno recenti" not in third
    # Back one page: the same fifty as the second page.
    newer_cursor = third.split("dopo=")[1].split('"')[0]
    back = client.get(f"/audit/?azione=settings_changed&dopo={newer_cursor}").get_data(as_text=True)
    assert numbers(back) == list(range(69, 19, -1))


def test_events_at_the_same_instant_are_neither_lost_nor_repeated(client, login_as):
    login_as("coordinator")
    for n in range(60):
        event("settings_changed", None, {"n": n}, at=BASE)
    _db.session.commit()
    first = client.get("/audit/?azione=settings_changed").get_data(as_text=True)
    cursor = first.split("prima=")[1].split('"')[0]
    second = client.get(f"/audit/?azione=settings_changed&prima={cursor}").get_data(as_text=True)
    seen = first.count("N</span>: ") + second.count("N</span>: ")
    assert seen == 60


# Exports -------------------------------------------------------------------------------------


def test_csv_export_keeps_the_filters_and_is_itself_audited(client, login_as):
    coordinator = login_as("coordinator")
    household = factories.household()
    event("household_updated", household, {"address": ["Via Roma 1", "Via Po 2"]})
    event("settings_changed", None, {"x": [1, 2]})
    _db.session.commit()
    response = client.get("/audit/export.csv?azione=household_updated&prima=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:3] == ["N. evento", "Data e ora", "Utente"]
    assert len(rows) == 2
    assert rows[1][4] == "dati del nucleo modificati"
    assert rows[1][8] == "Indirizzo: Via Roma 1 → Via Po 2"
    assert rows[1][1] == "10/03/2026 10:00"
    [exported] = exported_events()
    assert exported.actor_id == coordinator.id
    assert exported.changes["filters"] == {"azione": "household_updated"}
    assert exported.changes["rows"] == 1
    assert exported.changes["format"] == "csv"


def test_xlsx_export_has_typed_dates(client, login_as):
    login_as("admin")
    event("settings_changed", None, {"x": [1, 2]})
    _db.session.commit()
    response = client.get("/audit/export.xlsx?azione=settings_changed")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    assert sheet["A1"].value == "N. evento"
    assert sheet["B2"].is_date
    assert sheet["E2"].value == "impostazioni del portale modificate"
    assert exported_events()[0].changes["format"] == "xlsx"


def test_export_is_capped_with_a_message(client, login_as, monkeypatch):
    monkeypatch.setattr(audit_views, "EXPORT_LIMIT", 3)
    login_as("coordinator")
    for n in range(5):
        event("settings_changed", None, {"n": n}, at=BASE + timedelta(minutes=n))
    _db.session.commit()
    rows = csv_rows(client.get("/audit/export.csv?azione=settings_changed"))
    assert len(rows) == 1 + 3 + 1
    assert [row[8] for row in rows[1:4]] == ["N: 4", "N: 3", "N: 2"]
    assert rows[-1][0].startswith("Esportazione limitata ai 3 eventi più recenti")
    assert exported_events()[0].changes["capped"] is True


def test_export_with_a_reversed_period_is_refused_with_the_message(client, login_as):
    login_as("coordinator")
    response = client.get("/audit/export.xlsx?dal=2026-03-20&al=2026-03-01")
    assert response.status_code == 422
    assert "La data finale viene prima di quella iniziale" in response.get_data(as_text=True)
    assert exported_events() == []


# Nobody edits the log ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/audit/", "/audit/1", "/audit/1/edit", "/audit/export.csv"])
def test_no_route_changes_or_deletes_events(client, login_as, method, path):
    login_as("coordinator")
    event("settings_changed", None, {"x": 1})
    _db.session.commit()
    response = getattr(client, method)(path)
    assert response.status_code in (400, 404, 405)
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "settings_changed")
        )
        == 1
    )


def test_audit_events_cannot_be_changed_or_deleted(db):
    row = event("settings_changed", None, {"x": 1})
    _db.session.commit()
    row.action = "login"
    with pytest.raises(AuditLogImmutableError):
        _db.session.flush()
    _db.session.rollback()
    _db.session.delete(_db.session.get(AuditEvent, row.id))
    with pytest.raises(AuditLogImmutableError):
        _db.session.flush()
    _db.session.rollback()
    assert _db.session.get(AuditEvent, row.id).action == "settings_changed"


def test_object_number_counts_only_with_its_type(client, login_as):
    login_as("coordinator")
    household = factories.household()
    org = factories.organization()
    event("household_viewed", household, ip_address="203.0.113.1")
    event("organization_updated", org, ip_address="203.0.113.2", object_id=household.id)
    _db.session.commit()
    both = client.get(f"/audit/?oggetto={household.id}").get_data(as_text=True)
    assert "203.0.113.1" in both
    assert "203.0.113.2" in both
    assert "Vale insieme al tipo di oggetto" in both
    typed = client.get(f"/audit/?tipo=household&oggetto={household.id}").get_data(as_text=True)
    assert "203.0.113.1" in typed
    assert "203.0.113.2" not in typed
