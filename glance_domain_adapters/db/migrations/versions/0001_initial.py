"""Initial schema: Glance's image tables, our listing indexes, and image id tombstones.

Tables that already exist (a database created by Glance) are left as they are; only what is
missing is created, so the service can adopt an existing Glance database.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _big_int() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _soft_delete() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def _tables() -> dict[str, tuple[list, list]]:  # type: ignore[type-arg]
    """name -> (columns and constraints, indexes as (name, columns))."""
    false = sa.sql.expression.false()
    return {
        "images": (
            [
                sa.Column("id", sa.String(36), primary_key=True),
                sa.Column("name", sa.String(255)),
                sa.Column("size", _big_int()),
                sa.Column("status", sa.String(30), nullable=False),
                *_soft_delete(),
                sa.Column("disk_format", sa.String(20)),
                sa.Column("container_format", sa.String(20)),
                sa.Column("checksum", sa.String(32)),
                sa.Column("owner", sa.String(255)),
                sa.Column("min_disk", sa.Integer(), nullable=False),
                sa.Column("min_ram", sa.Integer(), nullable=False),
                sa.Column("protected", sa.Boolean(), nullable=False, server_default=false),
                sa.Column("virtual_size", _big_int()),
                sa.Column(
                    "visibility",
                    sa.Enum("private", "public", "shared", "community", name="image_visibility"),
                    nullable=False,
                    server_default="shared",
                ),
                sa.Column("os_hidden", sa.Boolean(), nullable=False, server_default=false),
                sa.Column("os_hash_algo", sa.String(64)),
                sa.Column("os_hash_value", sa.String(128)),
            ],
            [
                ("checksum_image_idx", ["checksum"]),
                ("visibility_image_idx", ["visibility"]),
                ("ix_images_deleted", ["deleted"]),
                ("owner_image_idx", ["owner"]),
                ("created_at_image_idx", ["created_at"]),
                ("updated_at_image_idx", ["updated_at"]),
                ("os_hidden_image_idx", ["os_hidden"]),
                ("os_hash_value_image_idx", ["os_hash_value"]),
            ],
        ),
        "image_properties": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
                sa.Column("name", sa.String(255), nullable=False),
                sa.Column("value", sa.Text()),
                *_soft_delete(),
                sa.UniqueConstraint("image_id", "name", name="ix_image_properties_image_id_name"),
            ],
            [
                ("ix_image_properties_deleted", ["deleted"]),
                ("ix_image_properties_image_id", ["image_id"]),
            ],
        ),
        "image_locations": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
                sa.Column("value", sa.Text(), nullable=False),
                *_soft_delete(),
                sa.Column("meta_data", sa.Text()),
                sa.Column("status", sa.String(30), nullable=False, server_default="active"),
            ],
            [
                ("ix_image_locations_deleted", ["deleted"]),
                ("ix_image_locations_image_id", ["image_id"]),
            ],
        ),
        "image_members": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
                sa.Column("member", sa.String(255), nullable=False),
                sa.Column("can_share", sa.Boolean(), nullable=False),
                *_soft_delete(),
                sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
                sa.UniqueConstraint(
                    "image_id", "member", "deleted_at",
                    name="image_members_image_id_member_deleted_at_key",
                ),
            ],
            [
                ("ix_image_members_deleted", ["deleted"]),
                ("ix_image_members_image_id", ["image_id"]),
                ("ix_image_members_image_id_member", ["image_id", "member"]),
            ],
        ),
        "image_tags": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
                sa.Column("value", sa.String(255), nullable=False),
                *_soft_delete(),
            ],
            [
                ("ix_image_tags_image_id", ["image_id"]),
                ("ix_image_tags_image_id_tag_value", ["image_id", "value"]),
            ],
        ),
        "image_id_tombstones": (
            [
                sa.Column("id", sa.String(36), primary_key=True),
                sa.Column("deleted_at", sa.DateTime(), nullable=False),
            ],
            [],
        ),
    }


#: Our indexes for listing (added to Glance's schema).
_OUR_INDEXES = {
    "images": [
        ("gd_images_created_at_id_idx", ["created_at", "id"]),
        ("gd_images_owner_created_at_id_idx", ["owner", "created_at", "id"]),
        ("gd_images_visibility_created_at_id_idx", ["visibility", "created_at", "id"]),
    ],
    "image_tags": [("gd_image_tags_value_image_id_idx", ["value", "image_id"])],
    "image_members": [("gd_image_members_member_image_id_idx", ["member", "image_id"])],
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, (columns, indexes) in _tables().items():
        if name in existing:
            continue
        op.create_table(name, *columns, **_MYSQL)
        for index_name, index_columns in indexes:
            op.create_index(index_name, name, index_columns)
    inspector = sa.inspect(op.get_bind())
    for table, indexes in _OUR_INDEXES.items():
        present = {ix["name"] for ix in inspector.get_indexes(table)}
        for index_name, index_columns in indexes:
            if index_name not in present:
                op.create_index(index_name, table, index_columns)


def downgrade() -> None:
    for table, indexes in _OUR_INDEXES.items():
        for index_name, _columns in indexes:
            op.drop_index(index_name, table_name=table)
    op.drop_table("image_id_tombstones")
