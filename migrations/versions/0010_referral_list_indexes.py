"""The approval queue's index: counted and ordered without reading the table (issue #10).

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


def downgrade():
    op.drop_index("ix_referral_status_submitted", table_name="referral")
