"""Four eyes on accounts that see household data (issue #18, item 9).

An admin's request to create an account with a role that sees households, to change such an
account's role or organization, or to give it a new temporary password waits in
`account_change_request` until a City coordinator (not the requester, not the account's owner)
confirms or refuses it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("requested_values", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "kind IN ('create', 'update', 'password_reset')",
            name=op.f("ck_account_change_request_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'refused')",
            name=op.f("ck_account_change_request_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_account_change_request_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_account_change_request_requested_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_account_change_request_decided_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_change_request")),
    )
    with op.batch_alter_table("account_change_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_change_request_status_requested_at",
            ["status", "requested_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_account_change_request_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_change_request_username"), ["username"], unique=False
        )


def downgrade():
    with op.batch_alter_table("account_change_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_change_request_username"))
        batch_op.drop_index(batch_op.f("ix_account_change_request_user_id"))
        batch_op.drop_index("ix_account_change_request_status_requested_at")
    op.drop_table("account_change_request")
