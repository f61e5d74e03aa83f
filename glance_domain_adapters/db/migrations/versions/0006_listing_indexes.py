"""Indexes for the listings clients send most beyond the default one: ``name=`` (what
``openstack image show NAME`` sends) and sorting by name, and sorting by size.

Each index ends with the default sort's tie-breakers (``created_at``, ``id``), so a filter on the
first column, or a sort on it, reads the rows of one page in order and stops at the limit instead
of scanning and sorting the whole table (measured with ``bench/bench_db.py``).

Revision ID: 0006_listing_indexes
Revises: 0005_upload_leases
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_listing_indexes"
down_revision = "0005_upload_leases"
branch_labels = None
depends_on = None

#: index name -> its columns (the first one nullable: NULLs sort first, see upgrade)
INDEXES = {
    "gd_images_name_created_at_id_idx": ["name", "created_at", "id"],
    "gd_images_size_created_at_id_idx": ["size", "created_at", "id"],
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, (first, *rest) in INDEXES.items():
        # Listings order NULLs as the smallest value (MySQL's and SQLite's native order, which
        # their indexes follow); PostgreSQL's default index puts them last, which would match
        # neither sort direction, so its index says where NULLs go.
        lead: str | sa.TextClause = sa.text(f"{first} NULLS FIRST") if postgresql else first
        op.create_index(name, "images", [lead, *rest])


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="images")
