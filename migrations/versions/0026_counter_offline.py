"""The offline counter (issue #25): the day key and the entries its queue sent.

`counter_key`: one per user with a counter day open, the AES key sealed with SECRET_KEY.
`counter_entry`: each distribution recorded offline, unique per (user, idempotency key), with
what the server did with it (recorded, held for a reason or for stock, refused, cancelled).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 20:58:27.222350

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "counter_key",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_sealed", sa.String(length=255), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_counter_key_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_counter_key")),
    )
    op.create_table(
        "counter_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("distributed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("distribution_id", sa.Integer(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('recorded', 'needs_reason', 'out_of_stock', 'refused', 'cancelled')",
            name=op.f("ck_counter_entry_status"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_counter_entry_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distribution.id"],
            name=op.f("fk_counter_entry_distribution_id_distribution"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_counter_entry_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_counter_entry_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name=op.f("fk_counter_entry_resolved_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_counter_entry_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_counter_entry_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_entry")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_counter_entry_user_id")),
    )
    with op.batch_alter_table("counter_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counter_entry_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "ix_counter_entry_organization_status", ["organization_id", "status"], unique=False
        )


def downgrade():
    with op.batch_alter_table("counter_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_entry_organization_status")
        batch_op.drop_index(batch_op.f("ix_counter_entry_household_id"))

    op.drop_table("counter_entry")
    op.drop_table("counter_key")
