"""SqlMetadefRepository: the domain's MetadefRepository port on Glance's ``metadef_*`` tables.

Children reference their namespace by its integer ``id``, so renaming a namespace is one
UPDATE. Property definitions and object properties are stored as JSON text (``json_schema``),
an object's ``required`` list too, as Glance does. Unique-constraint violations become the
domain's ``Duplicate`` with Glance's messages; every write is one transaction.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy import exc as sa_exc

from glance_domain.metadefs import errors as me
from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceContents,
    PropertyDefinition,
    ResourceType,
    ResourceTypeAssociation,
)
from glance_domain_adapters.db.engine import WRITE_OPTION
from glance_domain_adapters.db.errors import retry_on_deadlock, translated
from glance_domain_adapters.db.mapping import to_db_time
from glance_domain_adapters.db.metadef_tables import (
    metadef_namespace_resource_types as assoc_t,
)
from glance_domain_adapters.db.metadef_tables import (
    metadef_namespaces as ns_t,
)
from glance_domain_adapters.db.metadef_tables import (
    metadef_objects as obj_t,
)
from glance_domain_adapters.db.metadef_tables import (
    metadef_properties as prop_t,
)
from glance_domain_adapters.db.metadef_tables import (
    metadef_resource_types as rt_t,
)
from glance_domain_adapters.db.metadef_tables import (
    metadef_tags as tag_t,
)


def _ns(row: Row[Any]) -> Namespace:
    return Namespace(
        namespace=row.namespace, display_name=row.display_name, description=row.description,
        visibility=row.visibility or "private", protected=bool(row.protected), owner=row.owner,
        created_at=from_db_time(row.created_at), updated_at=from_db_time(row.updated_at),
        id=row.id,
    )


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def from_db_time(value: dt.datetime | None) -> dt.datetime | None:
    """Stored naive UTC -> aware UTC (what the domain hands in and the memory repo keeps)."""
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def _pk(result: Any) -> int:
    """The integer primary key an INSERT generated."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class SqlMetadefRepository:
    """Metadata definitions in SQL (SQLite, PostgreSQL, MariaDB/MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translated(), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @staticmethod
    def _ns_row(conn: Connection, name: str) -> Row[Any]:
        row = conn.execute(select(ns_t).where(ns_t.c.namespace == name)).first()
        if row is None:
            raise me.namespace_not_found(name)
        return row

    def _ns_id(self, conn: Connection, name: str) -> int:
        return int(self._ns_row(conn, name).id)

    # -- namespaces --------------------------------------------------------------------------
    @retry_on_deadlock()
    def add_namespace(self, namespace: Namespace, contents: NamespaceContents) -> Namespace:
        try:
            with self._write() as conn:
                if conn.execute(select(ns_t.c.id).where(
                        ns_t.c.namespace == namespace.namespace)).first() is not None:
                    raise me.duplicate_namespace(namespace.namespace)
                result = conn.execute(insert(ns_t).values(
                    namespace=namespace.namespace, display_name=namespace.display_name,
                    description=namespace.description, visibility=namespace.visibility,
                    protected=namespace.protected, owner=namespace.owner or "",
                    created_at=to_db_time(namespace.created_at),
                    updated_at=to_db_time(namespace.updated_at)))
                ns_id = _pk(result)
                for prop in contents.properties:
                    self._insert_property(conn, ns_id, prop)
                for obj in contents.objects:
                    self._insert_object(conn, ns_id, obj)
                self._insert_tags(conn, ns_id, namespace.namespace, contents.tags, False)
                for assoc in contents.associations:
                    self._insert_association(conn, ns_id, assoc)
                return _ns(self._ns_row(conn, namespace.namespace))
        except sa_exc.IntegrityError:
            raise me.duplicate_namespace(namespace.namespace) from None

    def get_namespace(self, name: str) -> Namespace:
        with self._read() as conn:
            return _ns(self._ns_row(conn, name))

    def list_namespaces(self) -> builtins.list[Namespace]:
        with self._read() as conn:
            return [_ns(r) for r in conn.execute(select(ns_t).order_by(ns_t.c.id))]

    @retry_on_deadlock()
    def save_namespace(self, old_name: str, namespace: Namespace) -> Namespace:
        try:
            with self._write() as conn:
                ns_id = self._ns_id(conn, old_name)
                if namespace.namespace != old_name and conn.execute(select(ns_t.c.id).where(
                        ns_t.c.namespace == namespace.namespace)).first() is not None:
                    raise me.duplicate_on_update("namespace", namespace.namespace,
                                                 namespace.namespace)
                conn.execute(update(ns_t).where(ns_t.c.id == ns_id).values(
                    namespace=namespace.namespace, display_name=namespace.display_name,
                    description=namespace.description, visibility=namespace.visibility,
                    protected=namespace.protected, owner=namespace.owner or "",
                    updated_at=to_db_time(namespace.updated_at)))
                return _ns(self._ns_row(conn, namespace.namespace))
        except sa_exc.IntegrityError:
            raise me.duplicate_on_update("namespace", namespace.namespace,
                                         namespace.namespace) from None

    @retry_on_deadlock()
    def remove_namespace(self, name: str) -> None:
        with self._write() as conn:
            # Lock the namespace row first: a transaction adding a child holds a share lock on
            # it (foreign-key check), so this waits for it to commit and then deletes its child
            # too, instead of failing on the foreign key when deleting the namespace.
            row = conn.execute(
                select(ns_t.c.id).where(ns_t.c.namespace == name).with_for_update()
            ).first()
            if row is None:
                raise me.namespace_not_found(name)
            ns_id = int(row.id)
            for table in (assoc_t, prop_t, obj_t, tag_t):
                conn.execute(delete(table).where(table.c.namespace_id == ns_id))
            conn.execute(delete(ns_t).where(ns_t.c.id == ns_id))

    def _clear(self, namespace: str, table: Any) -> None:
        with self._write() as conn:
            ns_id = self._ns_id(conn, namespace)
            conn.execute(delete(table).where(table.c.namespace_id == ns_id))

    def _remove(self, namespace: str, name: str, table: Any, kind: str) -> None:
        with self._write() as conn:
            ns_id = self._ns_id(conn, namespace)
            result = conn.execute(delete(table).where(
                table.c.namespace_id == ns_id, table.c.name == name))
            if result.rowcount == 0:
                raise me.child_not_found(kind, name, namespace)

    def _rows(self, namespace: str, table: Any) -> tuple[str, builtins.list[Row[Any]]]:
        with self._read() as conn:
            ns_id = self._ns_id(conn, namespace)
            rows = list(conn.execute(
                select(table).where(table.c.namespace_id == ns_id).order_by(table.c.id)))
            return namespace, rows

    # -- properties ----------------------------------------------------------------------------
    @staticmethod
    def _prop(namespace: str, row: Row[Any]) -> PropertyDefinition:
        return PropertyDefinition(
            namespace=namespace, name=row.name, schema=_json(row.json_schema, {}),
            created_at=from_db_time(row.created_at), updated_at=from_db_time(row.updated_at),
            id=row.id)

    @staticmethod
    def _insert_property(conn: Connection, ns_id: int, prop: PropertyDefinition) -> int:
        try:
            with conn.begin_nested():
                result = conn.execute(insert(prop_t).values(
                    namespace_id=ns_id, name=prop.name, json_schema=json.dumps(dict(prop.schema)),
                    created_at=to_db_time(prop.created_at), updated_at=to_db_time(prop.updated_at)))
        except sa_exc.IntegrityError:
            raise me.duplicate_child("property", prop.name, prop.namespace) from None
        return _pk(result)

    def list_properties(self, namespace: str) -> builtins.list[PropertyDefinition]:
        name, rows = self._rows(namespace, prop_t)
        return [self._prop(name, r) for r in rows]

    @retry_on_deadlock()
    def add_property(self, prop: PropertyDefinition) -> PropertyDefinition:
        with self._write() as conn:
            self._insert_property(conn, self._ns_id(conn, prop.namespace), prop)
        return next(p for p in self.list_properties(prop.namespace) if p.name == prop.name)

    @retry_on_deadlock()
    def save_property(self, old_name: str, prop: PropertyDefinition) -> PropertyDefinition:
        self._save(prop_t, "property", old_name, prop.namespace, prop.name, {
            "json_schema": json.dumps(dict(prop.schema)),
            "updated_at": to_db_time(prop.updated_at)})
        return next(p for p in self.list_properties(prop.namespace) if p.name == prop.name)

    def _save(self, table: Any, kind: str, old_name: str, namespace: str, name: str,
              values: dict[str, Any]) -> None:
        try:
            with self._write() as conn:
                ns_id = self._ns_id(conn, namespace)
                if name != old_name and conn.execute(select(table.c.id).where(
                        table.c.namespace_id == ns_id, table.c.name == name)).first():
                    raise me.duplicate_on_update(kind, name, namespace)
                result = conn.execute(update(table).where(
                    table.c.namespace_id == ns_id, table.c.name == old_name
                ).values(name=name, **values))
                if result.rowcount == 0:
                    raise me.child_not_found(kind, old_name, namespace)
        except sa_exc.IntegrityError:
            raise me.duplicate_on_update(kind, name, namespace) from None

    def remove_property(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, prop_t, "property")

    def remove_properties(self, namespace: str) -> None:
        self._clear(namespace, prop_t)

    # -- objects -------------------------------------------------------------------------------
    @staticmethod
    def _obj(namespace: str, row: Row[Any]) -> MetadefObject:
        return MetadefObject(
            namespace=namespace, name=row.name, description=row.description,
            required=_json(row.required, []), properties=_json(row.json_schema, {}),
            created_at=from_db_time(row.created_at), updated_at=from_db_time(row.updated_at),
            id=row.id)

    @staticmethod
    def _obj_values(obj: MetadefObject) -> dict[str, Any]:
        return {"description": obj.description,
                "required": json.dumps(list(obj.required)) if obj.required else None,
                "json_schema": json.dumps(dict(obj.properties))}

    def _insert_object(self, conn: Connection, ns_id: int, obj: MetadefObject) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(obj_t).values(
                    namespace_id=ns_id, name=obj.name, **self._obj_values(obj),
                    created_at=to_db_time(obj.created_at), updated_at=to_db_time(obj.updated_at)))
        except sa_exc.IntegrityError:
            raise me.duplicate_child("object", obj.name, obj.namespace) from None

    def list_objects(self, namespace: str) -> builtins.list[MetadefObject]:
        name, rows = self._rows(namespace, obj_t)
        return [self._obj(name, r) for r in rows]

    @retry_on_deadlock()
    def add_object(self, obj: MetadefObject) -> MetadefObject:
        with self._write() as conn:
            self._insert_object(conn, self._ns_id(conn, obj.namespace), obj)
        return next(o for o in self.list_objects(obj.namespace) if o.name == obj.name)

    @retry_on_deadlock()
    def save_object(self, old_name: str, obj: MetadefObject) -> MetadefObject:
        self._save(obj_t, "object", old_name, obj.namespace, obj.name, {
            **self._obj_values(obj), "updated_at": to_db_time(obj.updated_at)})
        return next(o for o in self.list_objects(obj.namespace) if o.name == obj.name)

    def remove_object(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, obj_t, "object")

    def remove_objects(self, namespace: str) -> None:
        self._clear(namespace, obj_t)

    # -- tags ----------------------------------------------------------------------------------
    @staticmethod
    def _tag(namespace: str, row: Row[Any]) -> MetadefTag:
        return MetadefTag(namespace=namespace, name=row.name,
                          created_at=from_db_time(row.created_at),
                          updated_at=from_db_time(row.updated_at), id=row.id)

    @staticmethod
    def _insert_tags(conn: Connection, ns_id: int, namespace: str,
                     tags: Sequence[MetadefTag], replace: bool) -> None:
        seen: set[str] = set()
        for tag in tags:
            if tag.name in seen:
                raise me.duplicate_child("tag", tag.name, namespace)
            seen.add(tag.name)
        if replace:
            conn.execute(delete(tag_t).where(tag_t.c.namespace_id == ns_id))
        for tag in tags:
            try:
                with conn.begin_nested():
                    conn.execute(insert(tag_t).values(
                        namespace_id=ns_id, name=tag.name,
                        created_at=to_db_time(tag.created_at),
                        updated_at=to_db_time(tag.updated_at)))
            except sa_exc.IntegrityError:
                raise me.duplicate_child("tag", tag.name, namespace) from None

    def list_tags(self, namespace: str) -> builtins.list[MetadefTag]:
        name, rows = self._rows(namespace, tag_t)
        return [self._tag(name, r) for r in rows]

    @retry_on_deadlock()
    def add_tags(
        self, namespace: str, tags: Sequence[MetadefTag], *, replace: bool = False
    ) -> builtins.list[MetadefTag]:
        with self._write() as conn:
            self._insert_tags(conn, self._ns_id(conn, namespace), namespace, tags, replace)
        names = {t.name for t in tags}
        return [t for t in self.list_tags(namespace) if t.name in names]

    @retry_on_deadlock()
    def save_tag(self, old_name: str, tag: MetadefTag) -> MetadefTag:
        self._save(tag_t, "tag", old_name, tag.namespace, tag.name,
                   {"updated_at": to_db_time(tag.updated_at)})
        return next(t for t in self.list_tags(tag.namespace) if t.name == tag.name)

    def remove_tag(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, tag_t, "tag")

    def remove_tags(self, namespace: str) -> None:
        self._clear(namespace, tag_t)

    # -- resource types ------------------------------------------------------------------------
    def list_resource_types(self) -> builtins.list[ResourceType]:
        with self._read() as conn:
            return [
                ResourceType(name=r.name, protected=bool(r.protected),
                             created_at=from_db_time(r.created_at),
                             updated_at=from_db_time(r.updated_at))
                for r in conn.execute(select(rt_t).order_by(rt_t.c.id))
            ]

    def list_associations(
        self, namespace: str | None = None
    ) -> builtins.list[ResourceTypeAssociation]:
        query = (
            select(ns_t.c.namespace, rt_t.c.name, assoc_t.c.prefix,
                   assoc_t.c.properties_target, assoc_t.c.created_at, assoc_t.c.updated_at)
            .join(ns_t, ns_t.c.id == assoc_t.c.namespace_id)
            .join(rt_t, rt_t.c.id == assoc_t.c.resource_type_id)
            .order_by(assoc_t.c.namespace_id, rt_t.c.id)
        )
        with self._read() as conn:
            if namespace is not None:
                query = query.where(assoc_t.c.namespace_id == self._ns_id(conn, namespace))
            return [
                ResourceTypeAssociation(
                    namespace=r.namespace, name=r.name, prefix=r.prefix,
                    properties_target=r.properties_target,
                    created_at=from_db_time(r.created_at), updated_at=from_db_time(r.updated_at))
                for r in conn.execute(query)
            ]

    def _insert_association(self, conn: Connection, ns_id: int,
                            assoc: ResourceTypeAssociation) -> None:
        rt = conn.execute(select(rt_t.c.id).where(rt_t.c.name == assoc.name)).first()
        if rt is None:
            rt_id = _pk(conn.execute(insert(rt_t).values(
                name=assoc.name, protected=False, created_at=to_db_time(assoc.created_at),
                updated_at=to_db_time(assoc.updated_at))))
        else:
            rt_id = int(rt.id)
        try:
            with conn.begin_nested():
                conn.execute(insert(assoc_t).values(
                    namespace_id=ns_id, resource_type_id=rt_id, prefix=assoc.prefix,
                    properties_target=assoc.properties_target,
                    created_at=to_db_time(assoc.created_at),
                    updated_at=to_db_time(assoc.updated_at)))
        except sa_exc.IntegrityError:
            raise me.duplicate_association(assoc.name, assoc.namespace) from None

    @retry_on_deadlock()
    def add_association(self, association: ResourceTypeAssociation) -> ResourceTypeAssociation:
        try:
            with self._write() as conn:
                self._insert_association(
                    conn, self._ns_id(conn, association.namespace), association)
        except sa_exc.IntegrityError:  # a concurrent creation of the resource type
            raise me.duplicate_association(association.name, association.namespace) from None
        return association

    @retry_on_deadlock()
    def remove_association(self, namespace: str, name: str) -> None:
        with self._write() as conn:
            ns_id = self._ns_id(conn, namespace)
            rt = conn.execute(select(rt_t.c.id).where(rt_t.c.name == name)).first()
            deleted = 0
            if rt is not None:
                deleted = conn.execute(delete(assoc_t).where(
                    assoc_t.c.namespace_id == ns_id,
                    assoc_t.c.resource_type_id == rt.id)).rowcount
            if not deleted:
                raise me.association_not_found(name, namespace)
