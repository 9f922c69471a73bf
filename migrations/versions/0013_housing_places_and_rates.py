"""Housing rules (issue #17, item 10): a placement holds one place per person and records why it
was proposed outside the unit's target groups; units keep the history of their monthly cost.

Existing placements held one place each: `places` starts at 1 for them. Every unit gets one
rate row with its current cost, in force from 2000-01-01: the best knowledge there is of what
past stays cost.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:40:00.000000

"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BACKFILL_FROM = date(2000, 1, 1)


def upgrade():
    op.create_table(
        "housing_unit_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("monthly_cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "monthly_cost IS NULL OR monthly_cost >= 0",
            name=op.f("ck_housing_unit_rate_cost_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_housing_unit_rate_set_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["housing_unit.id"],
            name=op.f("fk_housing_unit_rate_unit_id_housing_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_housing_unit_rate")),
        sa.UniqueConstraint("unit_id", "valid_from", name=op.f("uq_housing_unit_rate_unit_id")),
    )
    op.execute(
        sa.text(
            "INSERT INTO housing_unit_rate (unit_id, monthly_cost, valid_from, created_at) "
            "SELECT id, monthly_cost, :valid_from, :now FROM housing_unit"
        ).bindparams(
            sa.bindparam("valid_from", BACKFILL_FROM, type_=sa.Date()),
            sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True)),
        )
    )
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("places", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("target_reason", sa.String(length=1000), nullable=True))
        batch_op.create_check_constraint(op.f("ck_placement_places_positive"), "places >= 1")


def downgrade():
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placement_places_positive"), type_="check")
        batch_op.drop_column("target_reason")
        batch_op.drop_column("places")
    op.drop_table("housing_unit_rate")
