"""Upload leases (``gd_upload_leases``): which process writes an image's data, until when.

One row per image whose data is being written (``saving``, or ``uploading`` without a size):
see ``glance_domain_adapters/db/upload_leases.py``. Images already in such a state when the
table is created (left by a writer that died, as earlier versions could not recover them) get a
lease that has already expired, so the first recovery pass returns them to ``queued`` and
removes their partial data. Stop the API processes of an older version before upgrading: an
upload they are running would be recovered as abandoned.

Revision ID: 0005_upload_leases
Revises: 0004_tasks
Create Date: 2026-12-07
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005_upload_leases"
down_revision = "0004_tasks"
branch_labels = None
depends_on = None

#: The owner of the leases of writes found in progress by this migration (long gone).
MIGRATION_OWNER = "migration-0005"


def _time() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    leases = op.create_table(
        "gd_upload_leases",
        sa.Column("image_id", sa.String(36), primary_key=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    )
    images = sa.table("images", sa.column("id", sa.String(36)), sa.column("status", sa.String),
                      sa.column("size", sa.BigInteger), sa.column("deleted", sa.Boolean))
    bind = op.get_bind()
    stuck = bind.execute(sa.select(images.c.id, images.c.status).where(
        images.c.deleted == sa.false(),
        sa.or_(images.c.status == "saving",
               sa.and_(images.c.status == "uploading", images.c.size.is_(None))),
    )).all()
    expired = dt.datetime(1970, 1, 1)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if stuck:
        op.bulk_insert(leases, [
            {"image_id": row.id, "kind": "upload" if row.status == "saving" else "stage",
             "owner": MIGRATION_OWNER, "expires_at": expired, "created_at": now}
            for row in stuck
        ])


def downgrade() -> None:
    op.drop_table("gd_upload_leases")
