"""The versions of what each process keeps for the layout (issue #21, app/web/versions.py).

`cache_version`: one row per kind of data (users, settings, notifications, housing), whose value every
write of that kind changes in its own transaction. A kind without a row is never kept (a
write makes its row again).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 00:40:00

"""

import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cache_version",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_version")),
    )
    version = sa.table(
        "cache_version", sa.column("name", sa.String), sa.column("value", sa.BigInteger)
    )
    op.bulk_insert(
        version,
        [
            {"name": kind, "value": secrets.randbits(62)}
            for kind in ("users", "settings", "notifications", "housing")
        ],
    )


def downgrade():
    op.drop_table("cache_version")
