"""The referral lists' indexes: the City's queue and each side of an entity's list (issue #10).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:40:00.000000

"""

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


def downgrade():
    op.drop_index("ix_referral_to_changed", table_name="referral")
    op.drop_index("ix_referral_from_changed", table_name="referral")
    op.drop_index("ix_referral_status_submitted", table_name="referral")
