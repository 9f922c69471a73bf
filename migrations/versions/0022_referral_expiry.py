"""Stalled referrals (issue #24): a referral left without an answer past a second limit returns
to its sender as "expired" (scaduta); the nightly reminders note when they warned about it; the
position the chosen service had in the ranking is kept, so an approval against it asks a reason.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:00:00.000000

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BEFORE = (
    "draft",
    "submitted",
    "approved",
    "rejected",
    "accepted",
    "declined",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
    "waiting",
)
AFTER = (*BEFORE, "expired")


def _allowed(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


@contextmanager
def _referral_batch():
    """SQLite rebuilds `referral`; reflecting it follows its foreign keys to `person`, whose
    expression indexes (lower(name)) SQLAlchemy cannot reflect and need not: `person` is not
    copied."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning
        )
        with op.batch_alter_table("referral", schema=None) as batch_op:
            yield batch_op


def upgrade():
    with _referral_batch() as batch_op:
        batch_op.drop_constraint(op.f("ck_referral_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_referral_status"), _allowed(AFTER))
        batch_op.add_column(sa.Column("match_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stalled_notified_at", sa.DateTime(timezone=True)))


def downgrade():
    op.execute(sa.text("UPDATE referral SET status = 'cancelled' WHERE status = 'expired'"))
    with _referral_batch() as batch_op:
        batch_op.drop_column("stalled_notified_at")
        batch_op.drop_column("match_rank")
        batch_op.drop_constraint(op.f("ck_referral_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_referral_status"), _allowed(BEFORE))
