"""A household's closing reason and note (issue #26, item 1).

Closing a household asks for a coded reason (and a note, needed for "altro"); reopening empties
both, and the audit log keeps the history of every closing and reopening.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closing_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closing_note", sa.String(length=1000), nullable=True))


def downgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("closing_note")
        batch_op.drop_column("closing_reason")
