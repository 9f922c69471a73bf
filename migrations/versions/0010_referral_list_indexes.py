"""Indexes of the referral lists, the home pages' counts and the open-data list (issue #10).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # The queue is the referrals in one status, oldest submission first; the City sees only
    # the submitted ones. With the three columns the count and the page come from the index.
    op.create_index("ix_referral_status_submitted", "referral", ["status", "submitted_at", "id"])
    # An entity's list, newest change first, is read side by side (sent, received): each side
    # walks its own index in order and stops at the page instead of sorting every referral.
    op.create_index(
        "ix_referral_from_changed", "referral", ["from_organization_id", "status_changed_at", "id"]
    )
    op.create_index(
        "ix_referral_to_changed", "referral", ["to_organization_id", "status_changed_at", "id"]
    )

    # The home pages' counts, read from the index alone: overdue referrals (submitted_at is the
    # City's scope), follow-ups due (with their placement), increases to decide (a partial
    # index: a few hundred lines of 50,000 have a request).
    op.drop_index("ix_referral_status_changed", table_name="referral")
    op.create_index(
        "ix_referral_status_changed", "referral", ["status", "status_changed_at", "submitted_at"]
    )
    op.drop_index("ix_wellbeing_check_due", table_name="wellbeing_check")
    op.create_index(
        "ix_wellbeing_check_due", "wellbeing_check", ["done_on", "due_on", "placement_id"]
    )
    # The open-data list of services, by name, a page at a time.
    op.create_index("ix_service_name", "service", ["name", "id"])
    op.drop_index("ix_budget_line_increase", table_name="budget_line")
    op.create_index(
        "ix_budget_line_increase",
        "budget_line",
        ["project_id", "increase_requested"],
        sqlite_where=sa.text("increase_requested IS NOT NULL"),
        postgresql_where=sa.text("increase_requested IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_service_name", table_name="service")
    op.drop_index("ix_budget_line_increase", table_name="budget_line")
    op.create_index("ix_budget_line_increase", "budget_line", ["increase_requested"])
    op.drop_index("ix_wellbeing_check_due", table_name="wellbeing_check")
    op.create_index("ix_wellbeing_check_due", "wellbeing_check", ["done_on", "due_on"])
    op.drop_index("ix_referral_status_changed", table_name="referral")
    op.create_index("ix_referral_status_changed", "referral", ["status", "status_changed_at"])
    op.drop_index("ix_referral_to_changed", table_name="referral")
    op.drop_index("ix_referral_from_changed", table_name="referral")
    op.drop_index("ix_referral_status_submitted", table_name="referral")
