"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db as _db


def test_migrations_match_the_models(db):
    with _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


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
