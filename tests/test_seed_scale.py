"""`flask seed-scale`: city-scale data on a tiny scale, as a user of the data would check it."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from stdnum.it import codicefiscale

from app.demo import DEMO_USERS
from app.distributions.models import Distribution
from app.extensions import db as _db
from app.households.codice_fiscale import consistency_problem
from app.households.models import Household, Person
from app.housing.models import HOLDING_STATUSES, PLACEMENT_STATUSES, HousingUnit, Placement
from app.models import AuditEvent, Notification, Organization, Service, User
from app.projects.models import PROJECT_STATUSES, BudgetLine, Project
from app.referrals.models import STATUSES, Referral, ReferralStatusChange
from app.scale.generate import _Generator
from app.scale.writer import Buffer
from tests import factories
from tests.conftest import _truncate, csrf_token_from

HOUSEHOLDS = 300


def _seed(app: Flask, *args: str) -> object:
    result = app.test_cli_runner().invoke(args=["seed-scale", *args])
    _db.session.expire_all()
    return result


def _count(model: type) -> int:
    return int(_db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def seeded(app: Flask, db: object) -> None:
    result = _seed(app, "--households", str(HOUSEHOLDS))
    assert result.exit_code == 0, result.output


def test_counts_follow_the_scale(app: Flask, seeded: None) -> None:
    scale = HOUSEHOLDS / 100_000
    assert _count(Household) == HOUSEHOLDS
    people = _count(Person)
    assert 2.0 * HOUSEHOLDS <= people <= 3.2 * HOUSEHOLDS  # about 2.5 people per household
    assert _count(Referral) == round(200_000 * scale)
    assert _count(Placement) == round(50_000 * scale)
    assert _count(Project) == round(20_000 * scale)
    assert _count(HousingUnit) == max(12, round(5_000 * scale))
    assert _count(Service) == max(40, round(6_000 * scale))
    assert _count(Organization) == max(20, round(2_000 * scale))
    distributions = _count(Distribution)
    assert 0.7 * 500_000 * scale <= distributions <= 1.3 * 500_000 * scale
    assert _count(AuditEvent) >= round(2_000_000 * scale)
    # The load itself is written down last, as what it is: test data, not the demo.
    last = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert last.action == "scale_data_loaded"
    assert last.changes["nuclei"] == HOUSEHOLDS
    assert _count(Notification) > 0
    sizes = Counter(
        _db.session.scalars(select(func.count(Person.id)).group_by(Person.household_id)).all()
    )
    assert min(sizes) >= 1
    assert max(sizes) <= 6


def test_scale_option_sets_the_size(app: Flask, db: object) -> None:
    result = _seed(app, "--scale", "0.001")
    assert result.exit_code == 0, result.output
    assert _count(Household) == 100
    assert "Dati a scala cittadina caricati" in result.output


def test_every_codice_fiscale_is_valid_unique_and_consistent(seeded: None) -> None:
    people = _db.session.execute(select(Person.codice_fiscale, Person.birth_date, Person.sex)).all()
    codes = [code for code, _birth, _sex in people]
    assert len(set(codes)) == len(codes)
    for code, birth, sex in people:
        assert len(code) == 16
        assert codicefiscale.is_valid(code), code
        assert consistency_problem(code, birth, sex) is None, code


def test_referrals_in_every_status_with_their_history(seeded: None) -> None:
    referrals = _db.session.execute(select(Referral.id, Referral.status)).all()
    assert {status for _id, status in referrals} == set(STATUSES)
    steps: dict[int, list[tuple[str | None, str]]] = defaultdict(list)
    for referral_id, from_status, to_status in _db.session.execute(
        select(
            ReferralStatusChange.referral_id,
            ReferralStatusChange.from_status,
            ReferralStatusChange.to_status,
        ).order_by(ReferralStatusChange.referral_id, ReferralStatusChange.created_at)
    ):
        steps[referral_id].append((from_status, to_status))
    for referral_id, status in referrals:
        history = steps[referral_id]
        assert history[0] == (None, "draft")
        assert history[-1][1] == status
        for (_before, reached), (left, _after) in itertools.pairwise(history):
            assert left == reached


def test_placements_and_projects_in_every_status(seeded: None) -> None:
    placements = set(_db.session.scalars(select(Placement.status).distinct()))
    assert placements == set(PLACEMENT_STATUSES)
    projects = set(_db.session.scalars(select(Project.status).distinct()))
    assert projects == set(PROJECT_STATUSES)


def test_vacancies_leave_room_for_the_placements_holding_a_place(seeded: None) -> None:
    holding = dict(
        _db.session.execute(
            select(Placement.unit_id, func.count())
            .where(Placement.status.in_(HOLDING_STATUSES))
            .group_by(Placement.unit_id)
        ).all()
    )
    for unit in _db.session.scalars(select(HousingUnit)):
        assert 0 <= unit.vacancies <= unit.capacity - holding.get(unit.id, 0)
    per_household = Counter(
        _db.session.scalars(
            select(Placement.household_id).where(Placement.status.in_(HOLDING_STATUSES))
        )
    )
    assert max(per_household.values()) == 1


def test_budget_lines_keep_paid_within_committed_within_approved(seeded: None) -> None:
    lines = _db.session.scalars(select(BudgetLine)).all()
    assert lines
    for line in lines:
        assert 0 <= line.paid <= line.committed <= line.approved
        if line.increase_requested is not None:
            assert line.increase_requested > line.approved
    drafts = _db.session.scalars(
        select(BudgetLine).join(Project).where(Project.status == "draft")
    ).all()
    assert all(line.approved == 0 for line in drafts)


def test_a_database_with_data_is_refused(app: Flask, db: object) -> None:
    factories.organization()
    _db.session.commit()
    result = _seed(app, "--households", "100")
    assert result.exit_code != 0
    assert "Il database contiene già dati" in result.output
    assert _count(Household) == 0


def test_a_database_just_migrated_takes_the_city_scale_data(tmp_path) -> None:
    """`make seed-scale` on a new database: `flask db upgrade`, then `flask seed-scale`. The
    migrations write rows of their own (the hubs' stock items, the layout's versions): the
    database holds nobody's data yet, so the city-scale data must load."""
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    fresh = create_app(TestConfig(f"sqlite:///{tmp_path / 'fresh.db'}"))
    with fresh.app_context():
        upgrade()
        result = fresh.test_cli_runner().invoke(args=["seed-scale", "--households", "60"])
        assert result.exit_code == 0, result.output
        assert _db.session.scalar(select(func.count()).select_from(Household)) == 60
        _db.session.remove()
        _db.engine.dispose()


def test_seeding_twice_is_refused(app: Flask, seeded: None) -> None:
    result = _seed(app, "--households", str(HOUSEHOLDS))
    assert result.exit_code != 0
    assert "Il database contiene già dati" in result.output
    assert _count(Household) == HOUSEHOLDS


@pytest.mark.parametrize(("username", "_name", "_role", "_org"), DEMO_USERS)
def test_demo_accounts_log_in_and_find_their_data(
    app: Flask,
    client: FlaskClient,
    seeded: None,
    username: str,
    _name: str,
    _role: object,
    _org: object,
) -> None:
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": app.config["DEMO_PASSWORD"],
            "csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True)),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    user = _db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    if username == "ente1":
        org = user.organization
        assert org is not None
        assert org.is_hub
        assert org.is_job_service
        households = _count_where(Household, Household.organization_id == org.id)
        assert households >= 10
        assert _count_where(Referral, Referral.from_organization_id == org.id) > 0
    if username == "ente2":
        org = user.organization
        assert org is not None
        assert org.is_job_service
        assert _count_where(Referral, Referral.to_organization_id == org.id) > 0
    if username == "alloggi1":
        org = user.organization
        assert org is not None
        assert org.is_housing_provider
        assert _count_where(HousingUnit, HousingUnit.provider_id == org.id) >= 8


def _count_where(model: type, condition: object) -> int:
    return int(
        _db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0  # type: ignore[arg-type]
    )


def test_a_failure_halfway_leaves_the_database_empty(
    app: Flask, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_Generator, "projects", broken)
    result = _seed(app, "--households", "100")
    assert result.exit_code != 0
    assert _count(Household) == 0
    assert _count(Referral) == 0
    assert _count(AuditEvent) == 0
    monkeypatch.undo()
    result = _seed(app, "--households", "100")
    assert result.exit_code == 0, result.output
    assert _count(Household) == 100


def test_a_row_the_database_refuses_leaves_the_database_empty(
    app: Flask, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    add = Buffer.add

    def corrupting(self: Buffer, row: dict[str, object]) -> None:
        if self.table.name == "referral" and row["id"] == 7:
            row = {**row, "status": "lost"}  # refused by the CHECK on the status
        add(self, row)

    monkeypatch.setattr(Buffer, "add", corrupting)
    result = _seed(app, "--households", "100")
    assert result.exit_code != 0
    assert _count(Household) == 0
    assert _count(Referral) == 0
    assert _count(Notification) == 0


def _steps_of(table: dict[str, Any]) -> set[tuple[str, str]]:
    return {(source, step.target) for step in table.values() for source in step.sources}


@pytest.mark.parametrize(
    ("paths", "table", "start"),
    [("REFERRAL_PATHS", "referrals", "draft"), ("PLACEMENT_PATHS", "housing", "proposed")],
)
def test_the_city_scale_histories_are_walks_of_the_workflows_own_tables(
    paths: str, table: str, start: str
) -> None:
    """The generator writes its histories in bulk (200,000 referrals cannot go one conditional
    UPDATE at a time), but each history it writes is a path of the workflow module's transition
    table: the data never holds a step the portal itself would refuse."""
    from app.housing.operations import STEPS as placement_steps
    from app.referrals.operations import TRANSITIONS as referral_steps
    from app.scale.stages import housing, referrals

    allowed = _steps_of(referral_steps if table == "referrals" else placement_steps)
    for final, path in getattr(referrals if table == "referrals" else housing, paths).items():
        assert path[0] == start, final
        assert path[-1] == final, final
        for step in itertools.pairwise(path):
            assert step in allowed, (final, step)
    # The generator's referral sides are the workflow's: nobody takes a step that is not theirs.
    if table == "referrals":
        for name, step in referral_steps.items():
            assert referrals.REFERRAL_SIDE[step.target] == step.side.value, name


# What a small load with the default seed writes, table by table (the digest of its rows): the
# check that a refactoring of the generator left its output alone. A deliberate change of what
# the generator writes (or of the schema) changes it: then print `_digests()` and paste it here.
SAME_SEED_DIGEST = "4904a9bf11e52a5385b1124eeab7c435e2f59f8b4b4e649d79f94428296669eb"
# Random by design (salts, session tokens, some uuids): left out of the digest.
UNSEEDED_COLUMNS = {"password_hash", "session_token", "uuid"}


class _FixedNow(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return datetime(2026, 12, 7, 18, 0, tzinfo=tz)


def _digests() -> str:
    total = hashlib.sha256()
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).mappings()
            for row in rows:
                values = {k: v for k, v in row.items() if k not in UNSEEDED_COLUMNS}
                total.update(table.name.encode())
                total.update(json.dumps(values, default=str, sort_keys=True).encode())
    return total.hexdigest()


def _restart_sequences() -> None:
    with _db.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            return
        for table in _db.metadata.sorted_tables:
            if (column := table.autoincrement_column) is not None:
                sequence = func.pg_get_serial_sequence(table.name, column.name)
                conn.execute(select(func.setval(sequence, 1, False)))


def test_the_same_seed_writes_the_same_rows(
    app: Flask, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.scale import context, seed_scale

    monkeypatch.setattr(context, "datetime", _FixedNow)
    _truncate()  # the rows the migrations write, when this test is the session's first
    _restart_sequences()  # PostgreSQL: the ids the database assigns start again from 1
    seed_scale(0.001, 2026, date(2026, 12, 7), lambda line: None)
    assert _digests() == SAME_SEED_DIGEST
