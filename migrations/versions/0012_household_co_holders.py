"""Joint care that does something (issue #17, item 9): the organizations co-holding a household.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "household_co_holder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("joint_care_request_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("end_note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_co_holder_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_household_co_holder_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["joint_care_request_id"],
            ["joint_care_request.id"],
            name=op.f("fk_household_co_holder_joint_care_request_id_joint_care_request"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["user_account.id"],
            name=op.f("fk_household_co_holder_started_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["user_account.id"],
            name=op.f("fk_household_co_holder_ended_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_co_holder")),
    )
    with op.batch_alter_table("household_co_holder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_co_holder_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "ix_household_co_holder_organization",
            ["organization_id", "household_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_household_co_holder_in_force",
            ["household_id", "organization_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("household_co_holder", schema=None) as batch_op:
        batch_op.drop_index("uq_household_co_holder_in_force")
        batch_op.drop_index("ix_household_co_holder_organization")
        batch_op.drop_index(batch_op.f("ix_household_co_holder_household_id"))
    op.drop_table("household_co_holder")
