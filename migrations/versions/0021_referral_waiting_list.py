"""Referral waiting lists (issue #24): the status "waiting", when a referral joined its
service's waiting list, and the index of the queue order (also the places held in flight).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 17:00:00.000000

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "draft", "submitted", "approved", "rejected", "accepted", "declined", "in_progress",
    "completed", "failed", "cancelled",
)  # fmt: skip
NEW_STATUSES = (*OLD_STATUSES, "waiting")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


@contextmanager
def _referral_batch():
    """Batch mode: SQLite rebuilds the table to change a CHECK constraint (PostgreSQL alters
    it). The copy reflects the tables `referral` refers to, `person` among them, whose
    expression indexes SQLAlchemy cannot reflect: they are left as they are, and the warning
    about it says nothing about `referral`."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index"
        )
        with op.batch_alter_table("referral", schema=None) as batch_op:
            yield batch_op


def upgrade():
    with _referral_batch() as batch_op:
        batch_op.drop_constraint(op.f("ck_referral_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_referral_status"), _status_check(NEW_STATUSES))
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_referral_service_queue",
            ["service_id", "status", "waiting_since", "id"],
            unique=False,
        )


def downgrade():
    # Waiting referrals go back to drafts: the old schema has no waiting list.
    op.execute("UPDATE referral SET status = 'draft' WHERE status = 'waiting'")
    with _referral_batch() as batch_op:
        batch_op.drop_index("ix_referral_service_queue")
        batch_op.drop_column("waiting_since")
        batch_op.drop_constraint(op.f("ck_referral_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_referral_status"), _status_check(OLD_STATUSES))
