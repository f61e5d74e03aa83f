"""The database schema, as SQLAlchemy Core tables.

Table names, column names and types follow Glance's own schema (``images``, ``image_properties``,
``image_tags``, ``image_locations``, ``image_members`` with the soft-delete columns
``created_at``, ``updated_at``, ``deleted_at``, ``deleted``), so the repository can run on a
database Glance created. On top of that we add:

- composite indexes that let the listing query walk an index in sort order (owner, visibility,
  created_at/id, member lookups, tag lookups), and
- ``image_id_tombstones``: every image id ever deleted, kept after a purge, so that a deleted
  id can never be used again, and
- ``gd_upload_leases``: which process writes an image's data, until when (crash recovery).

Timestamps are naive UTC ``DATETIME`` columns (second precision on MySQL, as in Glance); the
repository converts to and from timezone-aware datetimes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    sql,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

#: Glance's visibility enum; its declaration order is also its sort order on MySQL/PostgreSQL.
VISIBILITY_ORDER = ("private", "public", "shared", "community")

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _big_int() -> BigInteger:
    return BigInteger().with_variant(Integer, "sqlite")  # type: ignore[return-value]


def timestamp() -> DateTime:
    """A naive UTC timestamp with microseconds on every database (MySQL/MariaDB need
    ``DATETIME(6)``; PostgreSQL and SQLite keep microseconds anyway), so images created in the
    same second sort as Glance sorts them (migration 0003)."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # type: ignore[return-value]


def _soft_delete_columns() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("created_at", timestamp(), nullable=False),
        Column("updated_at", timestamp(), nullable=True),
        Column("deleted_at", timestamp(), nullable=True),
        Column("deleted", Boolean(), nullable=False, default=False),
    ]


images = Table(
    "images",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255)),
    Column("size", _big_int()),
    Column("status", String(30), nullable=False),
    *_soft_delete_columns(),
    Column("disk_format", String(20)),
    Column("container_format", String(20)),
    Column("checksum", String(32)),
    Column("owner", String(255)),
    Column("min_disk", Integer(), nullable=False, default=0),
    Column("min_ram", Integer(), nullable=False, default=0),
    Column("protected", Boolean(), nullable=False, default=False,
           server_default=sql.expression.false()),
    Column("virtual_size", _big_int()),
    Column("visibility", Enum(*VISIBILITY_ORDER, name="image_visibility"), nullable=False,
           server_default="shared"),
    Column("os_hidden", Boolean(), nullable=False, default=False,
           server_default=sql.expression.false()),
    Column("os_hash_algo", String(64)),
    Column("os_hash_value", String(128)),
    # Glance's indexes
    Index("checksum_image_idx", "checksum"),
    Index("visibility_image_idx", "visibility"),
    Index("ix_images_deleted", "deleted"),
    Index("owner_image_idx", "owner"),
    Index("created_at_image_idx", "created_at"),
    Index("updated_at_image_idx", "updated_at"),
    Index("os_hidden_image_idx", "os_hidden"),
    Index("os_hash_value_image_idx", "os_hash_value"),
    # ours: listing in the default sort order, overall / per owner / per visibility
    Index("gd_images_created_at_id_idx", "created_at", "id"),
    Index("gd_images_owner_created_at_id_idx", "owner", "created_at", "id"),
    Index("gd_images_visibility_created_at_id_idx", "visibility", "created_at", "id"),
    # ours: name= (``openstack image show NAME``) and sorting by name or size (migration 0006)
    Index("gd_images_name_created_at_id_idx", "name", "created_at", "id"),
    Index("gd_images_size_created_at_id_idx", "size", "created_at", "id"),
    **_MYSQL,
)

image_properties = Table(
    "image_properties",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("image_id", String(36), ForeignKey("images.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", Text()),
    *_soft_delete_columns(),
    UniqueConstraint("image_id", "name", name="ix_image_properties_image_id_name"),
    Index("ix_image_properties_deleted", "deleted"),
    Index("ix_image_properties_image_id", "image_id"),
    **_MYSQL,
)

image_tags = Table(
    "image_tags",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("image_id", String(36), ForeignKey("images.id"), nullable=False),
    Column("value", String(255), nullable=False),
    *_soft_delete_columns(),
    Index("ix_image_tags_image_id", "image_id"),
    Index("ix_image_tags_image_id_tag_value", "image_id", "value"),
    # ours: "which images carry this tag" for tag filters
    Index("gd_image_tags_value_image_id_idx", "value", "image_id"),
    **_MYSQL,
)

image_locations = Table(
    "image_locations",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("image_id", String(36), ForeignKey("images.id"), nullable=False),
    Column("value", Text(), nullable=False),
    *_soft_delete_columns(),
    Column("meta_data", Text()),  # JSON-encoded dict, as Glance stores it
    Column("status", String(30), nullable=False, server_default="active"),
    Index("ix_image_locations_deleted", "deleted"),
    Index("ix_image_locations_image_id", "image_id"),
    **_MYSQL,
)

image_members = Table(
    "image_members",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("image_id", String(36), ForeignKey("images.id"), nullable=False),
    Column("member", String(255), nullable=False),
    Column("can_share", Boolean(), nullable=False, default=False),
    *_soft_delete_columns(),
    Column("status", String(20), nullable=False, default="pending", server_default="pending"),
    UniqueConstraint("image_id", "member", "deleted_at",
                     name="image_members_image_id_member_deleted_at_key"),
    Index("ix_image_members_deleted", "deleted"),
    Index("ix_image_members_image_id", "image_id"),
    Index("ix_image_members_image_id_member", "image_id", "member"),
    # ours: "images shared with this project" for listings
    Index("gd_image_members_member_image_id_idx", "member", "image_id"),
    **_MYSQL,
)

image_id_tombstones = Table(
    "image_id_tombstones",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deleted_at", timestamp(), nullable=False),
    **_MYSQL,
)

#: ours: one row per image whose data is being written, naming the writer process and until
#: when it is trusted (see :mod:`.upload_leases`; migration 0005).
upload_leases = Table(
    "gd_upload_leases",
    metadata,
    Column("image_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # "upload" (PUT /file) or "stage" (PUT /stage)
    Column("owner", String(255), nullable=False),
    Column("expires_at", timestamp(), nullable=False),
    Column("created_at", timestamp(), nullable=False),
    **_MYSQL,
)

#: Child tables of ``images`` (all soft-deleted with the image).
CHILD_TABLES = (image_properties, image_tags, image_locations, image_members)

#: Every table we own or share with Glance, children first (safe order for deletes).
ALL_TABLES = (*CHILD_TABLES, image_id_tombstones, upload_leases, images)
