"""Indexes for the city-scale lists and the name search (issue #10).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 05:25:29.875984

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_budget_line_increase", "budget_line", ["increase_requested"])
    op.create_index(
        "ix_distribution_month_counts",
        "distribution",
        ["distributed_on", "site_id", "kind", "quantity"],
    )
    op.create_index("ix_referral_changed", "referral", ["status_changed_at", "id"])
    # The household search compares lower-cased name prefixes as an index range.
    op.create_index("ix_person_lower_last_name", "person", [sa.text("lower(last_name)")])
    op.create_index("ix_person_lower_first_name", "person", [sa.text("lower(first_name)")])


def downgrade():
    op.drop_index("ix_person_lower_first_name", table_name="person")
    op.drop_index("ix_person_lower_last_name", table_name="person")
    op.drop_index("ix_referral_changed", table_name="referral")
    op.drop_index("ix_distribution_month_counts", table_name="distribution")
    op.drop_index("ix_budget_line_increase", table_name="budget_line")
