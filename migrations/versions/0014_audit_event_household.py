"""Every view of personal data is audited (issue #18, item 1): the households a response showed.

A list, a search, an edit form, a finder or an export shows many households in one response: its
single audit event names them in `audit_event_household`, one row per household, indexed by
household for its "who viewed" timeline and the data-subject extract. Append-only like the log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_event_household",
        sa.Column("audit_event_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_event_id"],
            ["audit_event.id"],
            name=op.f("fk_audit_event_household_audit_event_id_audit_event"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_audit_event_household_household_id_household"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "audit_event_id", "household_id", name=op.f("pk_audit_event_household")
        ),
    )
    op.create_index(
        "ix_audit_event_household_household",
        "audit_event_household",
        ["household_id", "audit_event_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_audit_event_household_household", table_name="audit_event_household")
    op.drop_table("audit_event_household")
