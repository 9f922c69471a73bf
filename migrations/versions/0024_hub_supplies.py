"""Hub supply (issue #25): items, delivery notes and their lines, the movement ledger, and one
balance row per hub and item (the row concurrent counters lock; its CHECK keeps it >= 0).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:45:29.807715

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "supply_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("distribution_kind", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_item")),
        sa.UniqueConstraint("distribution_kind", name=op.f("uq_supply_item_distribution_kind")),
    )
    op.create_table(
        "supply_balance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("short_since", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_supply_balance_on_hand_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supply_item.id"],
            name=op.f("fk_supply_balance_item_id_supply_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_supply_balance_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_balance")),
        sa.UniqueConstraint("site_id", "item_id", name="uq_supply_balance_site_item"),
    )
    op.create_table(
        "supply_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("note_number", sa.String(length=40), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_supply_delivery_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_supply_delivery_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_delivery")),
        sa.UniqueConstraint("site_id", "note_number", name="uq_supply_delivery_site_note"),
    )
    with op.batch_alter_table("supply_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_delivery_site_id"), ["site_id"], unique=False)

    op.create_table(
        "supply_delivery_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_supply_delivery_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["supply_delivery.id"],
            name=op.f("fk_supply_delivery_line_delivery_id_supply_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supply_item.id"],
            name=op.f("fk_supply_delivery_line_item_id_supply_item"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_delivery_line")),
    )
    with op.batch_alter_table("supply_delivery_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_delivery_line_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "supply_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("balance_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("distribution_id", sa.Integer(), nullable=True),
        sa.Column("other_site_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('delivery', 'distribution', 'adjustment', 'transfer_in', 'transfer_out')",
            name=op.f("ck_supply_movement_kind"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('damaged', 'expired', 'transferred', 'count_correction')",
            name=op.f("ck_supply_movement_reason"),
        ),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_supply_movement_quantity_not_zero")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_supply_movement_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["balance_id"],
            ["supply_balance.id"],
            name=op.f("fk_supply_movement_balance_id_supply_balance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["supply_delivery.id"],
            name=op.f("fk_supply_movement_delivery_id_supply_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distribution.id"],
            name=op.f("fk_supply_movement_distribution_id_distribution"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supply_item.id"],
            name=op.f("fk_supply_movement_item_id_supply_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["other_site_id"],
            ["site.id"],
            name=op.f("fk_supply_movement_other_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_supply_movement_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_movement")),
    )
    with op.batch_alter_table("supply_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supply_movement_balance_day", ["balance_id", "occurred_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supply_movement_distribution_id"), ["distribution_id"], unique=False
        )
        batch_op.create_index(
            "ix_supply_movement_site_day", ["site_id", "occurred_on"], unique=False
        )

    # The two distribution kinds are stock items from the start (the City adds others).
    item = sa.table(
        "supply_item",
        sa.column("name", sa.String),
        sa.column("distribution_kind", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        item,
        [
            {"name": "paniere alimentare", "distribution_kind": "food_basket", "active": True,
             "created_at": now},
            {"name": "beni di prima necessità", "distribution_kind": "basic_necessities",
             "active": True, "created_at": now},
        ],
    )  # fmt: skip


def downgrade():
    with op.batch_alter_table("supply_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_supply_movement_site_day")
        batch_op.drop_index(batch_op.f("ix_supply_movement_distribution_id"))
        batch_op.drop_index("ix_supply_movement_balance_day")

    op.drop_table("supply_movement")
    with op.batch_alter_table("supply_delivery_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_delivery_line_delivery_id"))

    op.drop_table("supply_delivery_line")
    with op.batch_alter_table("supply_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_delivery_site_id"))

    op.drop_table("supply_delivery")
    op.drop_table("supply_balance")
    op.drop_table("supply_item")
