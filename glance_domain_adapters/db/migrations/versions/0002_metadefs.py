"""Glance's metadata-definition tables (metadef_*), created when missing.

Revision ID: 0002_metadefs
Revises: 0001_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_metadefs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
}


def _times() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=True)]


def _ns_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("namespace_id", sa.Integer(), sa.ForeignKey("metadef_namespaces.id"),
                     nullable=False)


def _tables() -> dict[str, tuple[list, list]]:  # type: ignore[type-arg]
    """name -> (columns and constraints, indexes as (name, columns)), in creation order."""
    return {
        "metadef_namespaces": ([
            sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
            sa.Column("namespace", sa.String(80), nullable=False),
            sa.Column("display_name", sa.String(80)),
            sa.Column("description", sa.Text()),
            sa.Column("visibility", sa.String(32)),
            sa.Column("protected", sa.Boolean()),
            sa.Column("owner", sa.String(255), nullable=False),
            *_times(),
            sa.UniqueConstraint("namespace", name="uq_metadef_namespaces_namespace"),
        ], [("ix_metadef_namespaces_owner", ["owner"])]),
        "metadef_resource_types": ([
            sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
            sa.Column("name", sa.String(80), nullable=False),
            sa.Column("protected", sa.Boolean(), nullable=False),
            *_times(),
            sa.UniqueConstraint("name", name="uq_metadef_resource_types_name"),
        ], []),
        "metadef_objects": ([
            sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
            _ns_fk(),
            sa.Column("name", sa.String(80), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("required", sa.Text()),
            sa.Column("json_schema", sa.Text(), nullable=False),
            *_times(),
            sa.UniqueConstraint("namespace_id", "name",
                                name="uq_metadef_objects_namespace_id_name"),
        ], [("ix_metadef_objects_name", ["name"])]),
        "metadef_properties": ([
            sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
            _ns_fk(),
            sa.Column("name", sa.String(80), nullable=False),
            sa.Column("json_schema", sa.Text(), nullable=False),
            *_times(),
            sa.UniqueConstraint("namespace_id", "name",
                                name="uq_metadef_properties_namespace_id_name"),
        ], [("ix_metadef_properties_name", ["name"])]),
        "metadef_namespace_resource_types": ([
            sa.Column("resource_type_id", sa.Integer(),
                      sa.ForeignKey("metadef_resource_types.id"), primary_key=True,
                      nullable=False),
            sa.Column("namespace_id", sa.Integer(), sa.ForeignKey("metadef_namespaces.id"),
                      primary_key=True, nullable=False),
            sa.Column("properties_target", sa.String(80)),
            sa.Column("prefix", sa.String(80)),
            *_times(),
        ], [("ix_metadef_ns_res_types_namespace_id", ["namespace_id"])]),
        "metadef_tags": ([
            sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
            _ns_fk(),
            sa.Column("name", sa.String(80), nullable=False),
            *_times(),
            sa.UniqueConstraint("namespace_id", "name",
                                name="uq_metadef_tags_namespace_id_name"),
        ], [("ix_metadef_tags_name", ["name"])]),
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, (columns, indexes) in _tables().items():
        if name in existing:
            continue
        op.create_table(name, *columns, **_MYSQL)
        for index_name, index_columns in indexes:
            op.create_index(index_name, name, index_columns)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
