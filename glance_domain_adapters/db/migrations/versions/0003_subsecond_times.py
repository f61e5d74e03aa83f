"""Timestamps with microseconds on MySQL/MariaDB (DATETIME -> DATETIME(6)).

PostgreSQL's TIMESTAMP and SQLite already keep microseconds; MySQL's DATETIME drops them, so
images created within one second could not sort by creation time as Glance sorts them.

Revision ID: 0003_subsecond_times
Revises: 0002_metadefs
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_subsecond_times"
down_revision = "0002_metadefs"
branch_labels = None
depends_on = None

_SOFT_DELETE = (("created_at", False), ("updated_at", True), ("deleted_at", True))
#: table -> (column, nullable) of its timestamp columns
_COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "images": _SOFT_DELETE,
    "image_properties": _SOFT_DELETE,
    "image_tags": _SOFT_DELETE,
    "image_locations": _SOFT_DELETE,
    "image_members": _SOFT_DELETE,
    "image_id_tombstones": (("deleted_at", False),),
}


def _alter(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:  # type: ignore[type-arg]
    if op.get_bind().dialect.name != "mysql":  # MariaDB reports itself as mysql too
        return
    for table, columns in _COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(table, column, existing_type=old, type_=new,
                            existing_nullable=nullable)


def upgrade() -> None:
    _alter(mysql.DATETIME(), mysql.DATETIME(fsp=6))


def downgrade() -> None:
    _alter(mysql.DATETIME(fsp=6), mysql.DATETIME())
