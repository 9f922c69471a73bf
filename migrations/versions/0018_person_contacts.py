"""How to reach the person (issue #26, item 4): phone, e-mail, preferred channel, consent.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


COLUMNS = ("phone", "email", "preferred_channel", "contact_consent")


def upgrade():
    # Plain ADD COLUMN (SQLite supports it): a batch copy of `person` would have to reflect its
    # expression indexes, which SQLAlchemy cannot.
    op.add_column("person", sa.Column("phone", sa.String(length=40), nullable=True))
    op.add_column("person", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("person", sa.Column("preferred_channel", sa.String(length=16), nullable=True))
    op.add_column(
        "person",
        sa.Column("contact_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    # DROP COLUMN: SQLite 3.35 and later, PostgreSQL.
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE person DROP COLUMN {name}")
