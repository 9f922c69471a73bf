"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.extensions import db as _db


# SQLite cannot reflect indexes on expressions, so Alembic skips comparing the two name-search
# indexes there (with a warning); the next test checks that the migrations did create them.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_match_the_models(db):
    with _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


def test_the_name_search_indexes_exist(db):
    if _db.engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'person'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'person'"
    with _db.engine.connect() as connection:
        names = set(connection.execute(text(query)).scalars())
    assert {"ix_person_lower_last_name", "ix_person_lower_first_name"} <= names


def test_database_refuses_a_circoscrizione_outside_1_to_8(db):
    from sqlalchemy.exc import IntegrityError

    from app.registry.models import Organization

    _db.session.add(Organization(name="Fuori città", circoscrizione=9))
    try:
        _db.session.flush()
        raised = False
    except IntegrityError:
        raised = True
    finally:
        _db.session.rollback()
    assert raised


def test_every_table_has_a_named_primary_key(db):
    inspector = inspect(_db.engine)
    for table in _db.metadata.sorted_tables:
        assert inspector.get_pk_constraint(table.name)["constrained_columns"]


def test_upgrading_a_foundation_database_keeps_its_organizations(tmp_path):
    """0001 -> head on a database with data: existing organizations get a UUID and stay active
    (run on SQLite, the embedded default, whose table rebuilds are the risky part)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_app(TestConfig(url))
    with old.app_context():
        upgrade(revision="0001")
        with _db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO organization (name, circoscrizione, is_job_service, is_hub, "
                "is_housing_provider, created_at, updated_at) "
                "VALUES ('Ente storico', 3, 1, 0, 0, '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO user_account (username, full_name, email, role, organization_id, "
                "active, password_hash, must_change_password, session_token, created_at, "
                "updated_at) VALUES ('storico', 'Utente Storico', 's@example.org', "
                "'entity_operator', 1, 1, 'x', 0, 'tok', '2026-01-01 10:00:00', "
                "'2026-01-01 10:00:00')"
            )
        upgrade()
        with _db.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT uuid, active FROM organization").one()
            user_org = conn.exec_driver_sql("SELECT organization_id FROM user_account").scalar()
        _db.engine.dispose()
    assert len(row[0]) == 36
    assert row[1] == 1
    assert user_org == 1


def test_the_sharing_authorisations_move_into_the_consents_ledger_and_back(tmp_path):
    """0020 -> 0023: each household's authorisation becomes consents for the network (all
    partners: job services, housing, project), kept withdrawn, "fino a revoca"; the three
    columns go. Downgrading puts them back as well as the ledger can say."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.config import TestConfig

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    old = create_app(TestConfig(url))
    with old.app_context():
        upgrade(revision="0020")
        with _db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO organization (name, circoscrizione, is_job_service, is_hub, "
                "is_housing_provider, active, uuid, created_at, updated_at) VALUES ('Ente', 3, "
                "1, 1, 0, 1, '00000000-0000-0000-0000-000000000001', '2026-01-01 10:00:00', "
                "'2026-01-01 10:00:00')"
            )
            for household_id, scope, given, withdrawn in (
                (1, "job_services", "2026-02-01", None),
                (2, "housing", "2026-03-01", "2026-05-01"),
                (3, "all_partners", "2026-04-01", None),
                (4, None, None, None),
            ):
                conn.exec_driver_sql(
                    "INSERT INTO household (id, organization_id, circoscrizione, needs, status, "
                    "privacy_notice_on, sharing_scope, sharing_authorised_on, "
                    "sharing_withdrawn_on, created_at, updated_at) VALUES (?, 1, 3, '[]', "
                    "'active', '2026-01-15', ?, ?, ?, '2026-01-01 10:00:00', "
                    "'2026-01-01 10:00:00')",
                    (household_id, scope, given, withdrawn),
                )
        upgrade(revision="0023")
        with _db.engine.connect() as conn:
            ledger = conn.exec_driver_sql(
                "SELECT household_id, purpose, recipient_organization_id, given_on, expires_on, "
                "withdrawn_on, signed_form FROM consent ORDER BY household_id, purpose"
            ).all()
            columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(household)").all()}
        note = "autorizzazione registrata prima del registro dei consensi"
        assert [tuple(row) for row in ledger] == [
            (1, "job_services", None, "2026-02-01", None, None, note),
            (2, "housing", None, "2026-03-01", None, "2026-05-01", note),
            (3, "housing", None, "2026-04-01", None, None, note),
            (3, "job_services", None, "2026-04-01", None, None, note),
            (3, "project", None, "2026-04-01", None, None, note),
        ]
        assert not columns & {"sharing_scope", "sharing_authorised_on", "sharing_withdrawn_on"}
        downgrade(revision="0020")
        with _db.engine.connect() as conn:
            back = conn.exec_driver_sql(
                "SELECT id, sharing_scope, sharing_authorised_on, sharing_withdrawn_on "
                "FROM household ORDER BY id"
            ).all()
        _db.engine.dispose()
    assert [tuple(row) for row in back] == [
        (1, "job_services", "2026-02-01", None),
        (2, "housing", "2026-03-01", "2026-05-01"),
        (3, "all_partners", "2026-04-01", None),
        (4, None, None, None),
    ]
