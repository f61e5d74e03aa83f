"""Glance's metadata-definition tables (``metadef_*``), same names, columns and constraints.

They share :data:`.tables.metadata`; revision ``0002_metadefs`` creates them (skipping tables a
Glance database already has). No soft-delete columns: metadef rows are deleted for real.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from glance_domain_adapters.db.tables import _MYSQL, metadata


def _times() -> list[Column]:  # type: ignore[type-arg]
    return [Column("created_at", DateTime(), nullable=False),
            Column("updated_at", DateTime(), nullable=True)]


metadef_namespaces = Table(
    "metadef_namespaces", metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("namespace", String(80), nullable=False),
    Column("display_name", String(80)),
    Column("description", Text()),
    Column("visibility", String(32)),
    Column("protected", Boolean()),
    Column("owner", String(255), nullable=False),
    *_times(),
    UniqueConstraint("namespace", name="uq_metadef_namespaces_namespace"),
    Index("ix_metadef_namespaces_owner", "owner"),
    **_MYSQL,
)

metadef_objects = Table(
    "metadef_objects", metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("namespace_id", Integer(), ForeignKey("metadef_namespaces.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("description", Text()),
    Column("required", Text()),
    Column("json_schema", Text(), nullable=False),
    *_times(),
    UniqueConstraint("namespace_id", "name", name="uq_metadef_objects_namespace_id_name"),
    Index("ix_metadef_objects_name", "name"),
    **_MYSQL,
)

metadef_properties = Table(
    "metadef_properties", metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("namespace_id", Integer(), ForeignKey("metadef_namespaces.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("json_schema", Text(), nullable=False),
    *_times(),
    UniqueConstraint("namespace_id", "name", name="uq_metadef_properties_namespace_id_name"),
    Index("ix_metadef_properties_name", "name"),
    **_MYSQL,
)

metadef_resource_types = Table(
    "metadef_resource_types", metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("name", String(80), nullable=False),
    Column("protected", Boolean(), nullable=False, default=False),
    *_times(),
    UniqueConstraint("name", name="uq_metadef_resource_types_name"),
    **_MYSQL,
)

metadef_namespace_resource_types = Table(
    "metadef_namespace_resource_types", metadata,
    Column("resource_type_id", Integer(), ForeignKey("metadef_resource_types.id"),
           primary_key=True, nullable=False),
    Column("namespace_id", Integer(), ForeignKey("metadef_namespaces.id"),
           primary_key=True, nullable=False),
    Column("properties_target", String(80)),
    Column("prefix", String(80)),
    *_times(),
    Index("ix_metadef_ns_res_types_namespace_id", "namespace_id"),
    **_MYSQL,
)

metadef_tags = Table(
    "metadef_tags", metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("namespace_id", Integer(), ForeignKey("metadef_namespaces.id"), nullable=False),
    Column("name", String(80), nullable=False),
    *_times(),
    UniqueConstraint("namespace_id", "name", name="uq_metadef_tags_namespace_id_name"),
    Index("ix_metadef_tags_name", "name"),
    **_MYSQL,
)

#: Children first (a safe order for deletes), then the namespaces and resource types.
METADEF_TABLES = (
    metadef_namespace_resource_types, metadef_properties, metadef_objects, metadef_tags,
    metadef_namespaces, metadef_resource_types,
)
