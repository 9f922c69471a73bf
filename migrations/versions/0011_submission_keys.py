"""Idempotency keys of the create forms (issue #17): a form sent twice makes one record.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "submission_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("result_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_submission_key_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_key")),
        sa.UniqueConstraint("user_id", "purpose", "key", name=op.f("uq_submission_key_user_id")),
    )
    with op.batch_alter_table("submission_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_key_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("submission_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_key_created_at"))
    op.drop_table("submission_key")
