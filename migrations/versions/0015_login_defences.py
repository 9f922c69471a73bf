"""Login defences kept on the server (issue #18, items 4, 5 and 13).

`pending_login`: a login awaiting its second factor, with its wrong codes counted on the server.
`auth_failure`: refused passwords and codes, the throttling counter shared by every process when
no Redis is configured. `recovery_code`: hashed one-time codes for a lost phone.
`password_history`: hashes of previous passwords, which a new password may not repeat.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str = "user_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["user_account.id"],
        name=op.f(f"fk_{table}_{column}_user_account"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "pending_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _user_fk("pending_login"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_login")),
    )
    op.create_index(op.f("ix_pending_login_user_id"), "pending_login", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_pending_login_created_at"), "pending_login", ["created_at"], unique=False
    )

    op.create_table(
        "auth_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.CheckConstraint("kind IN ('password', 'totp')", name=op.f("ck_auth_failure_kind")),
        _user_fk("auth_failure"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failure")),
    )
    op.create_index(op.f("ix_auth_failure_created_at"), "auth_failure", ["created_at"])
    op.create_index(
        "ix_auth_failure_kind_username_created", "auth_failure", ["kind", "username", "created_at"]
    )
    op.create_index(
        "ix_auth_failure_kind_address_created", "auth_failure", ["kind", "ip_address", "created_at"]
    )
    op.create_index(
        "ix_auth_failure_kind_user_created", "auth_failure", ["kind", "user_id", "created_at"]
    )

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("recovery_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"], unique=False)

    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("password_history"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    op.create_index(
        op.f("ix_password_history_user_id"), "password_history", ["user_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_password_history_user_id"), table_name="password_history")
    op.drop_table("password_history")
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_index("ix_auth_failure_kind_user_created", table_name="auth_failure")
    op.drop_index("ix_auth_failure_kind_address_created", table_name="auth_failure")
    op.drop_index("ix_auth_failure_kind_username_created", table_name="auth_failure")
    op.drop_index(op.f("ix_auth_failure_created_at"), table_name="auth_failure")
    op.drop_table("auth_failure")
    op.drop_index(op.f("ix_pending_login_created_at"), table_name="pending_login")
    op.drop_index(op.f("ix_pending_login_user_id"), table_name="pending_login")
    op.drop_table("pending_login")
