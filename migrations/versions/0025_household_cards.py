"""Household cards (issue #25): a printable card with a QR code carrying an opaque token.

`household_card`: the household, the issuing hub (organization and site), the token's sha256
(looked up at the counter) and the token sealed with a key derived from SECRET_KEY (to print
the card again), issue and revocation with who and why. At most one active card per household
(a partial unique index on household_id where revoked_at is null).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "household_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_sealed", sa.String(length=255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=16), nullable=True),
        sa.Column("revoke_note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "revoke_reason IS NULL OR revoke_reason IN ('lost', 'stolen', 'damaged', 'other')",
            name=op.f("ck_household_card_revoke_reason"),
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoke_reason IS NULL)",
            name=op.f("ck_household_card_revoked_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_card_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_household_card_organization_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_household_card_site_id_site"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user_account.id"],
            name=op.f("fk_household_card_issued_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_household_card_revoked_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_card")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_household_card_token_hash")),
    )
    with op.batch_alter_table("household_card", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_card_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "uq_household_card_active",
            ["household_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("household_card", schema=None) as batch_op:
        batch_op.drop_index("uq_household_card_active")
        batch_op.drop_index(batch_op.f("ix_household_card_household_id"))
    op.drop_table("household_card")
