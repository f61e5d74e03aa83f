"""In-memory MetadefRepository (embedding and tests); thread-safe, same errors as SQL."""

from __future__ import annotations

import builtins
import itertools
import threading
from collections.abc import Sequence
from typing import TypeVar

import attrs

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

_C = TypeVar("_C", PropertyDefinition, MetadefObject, MetadefTag)
_KIND = {PropertyDefinition: "property", MetadefObject: "object", MetadefTag: "tag"}


class MemoryMetadefRepository:
    """Dictionaries keyed by namespace name; children keep insertion order."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._namespaces: dict[str, Namespace] = {}
        self._children: dict[tuple[str, type], dict[str, object]] = {}
        self._types: dict[str, ResourceType] = {}
        self._assocs: dict[str, dict[str, ResourceTypeAssociation]] = {}

    # -- namespaces --------------------------------------------------------------------------
    def add_namespace(self, namespace: Namespace, contents: NamespaceContents) -> Namespace:
        with self._lock:
            if namespace.namespace in self._namespaces:
                raise me.duplicate_namespace(namespace.namespace)
            stored = attrs.evolve(namespace, id=next(self._ids))
            self._namespaces[namespace.namespace] = stored
            try:
                for prop in contents.properties:
                    self.add_property(prop)
                for obj in contents.objects:
                    self.add_object(obj)
                self.add_tags(namespace.namespace, contents.tags)
                for assoc in contents.associations:
                    self.add_association(assoc)
            except Exception:
                self._drop(namespace.namespace)
                raise
            return stored

    def get_namespace(self, name: str) -> Namespace:
        with self._lock:
            try:
                return self._namespaces[name]
            except KeyError:
                raise me.namespace_not_found(name) from None

    def list_namespaces(self) -> builtins.list[Namespace]:
        with self._lock:
            return list(self._namespaces.values())

    def save_namespace(self, old_name: str, namespace: Namespace) -> Namespace:
        with self._lock:
            current = self.get_namespace(old_name)
            new_name = namespace.namespace
            if new_name != old_name and new_name in self._namespaces:
                raise me.duplicate_on_update("namespace", new_name, new_name)
            stored = attrs.evolve(namespace, id=current.id)
            del self._namespaces[old_name]
            self._namespaces[new_name] = stored
            if new_name != old_name:
                self._rename(old_name, new_name)
            return stored

    def _rename(self, old: str, new: str) -> None:
        for (ns, kind), items in list(self._children.items()):
            if ns == old:
                del self._children[(ns, kind)]
                self._children[(new, kind)] = {
                    k: attrs.evolve(v, namespace=new)  # type: ignore[misc]
                    for k, v in items.items()
                }
        assocs = self._assocs.pop(old, {})
        self._assocs[new] = {k: attrs.evolve(a, namespace=new) for k, a in assocs.items()}

    def remove_namespace(self, name: str) -> None:
        with self._lock:
            self.get_namespace(name)
            self._drop(name)

    def _drop(self, name: str) -> None:
        self._namespaces.pop(name, None)
        for key in [k for k in self._children if k[0] == name]:
            del self._children[key]
        self._assocs.pop(name, None)

    # -- generic children --------------------------------------------------------------------
    def _items(self, namespace: str, kind: type) -> dict[str, object]:
        self.get_namespace(namespace)
        return self._children.setdefault((namespace, kind), {})

    def _list(self, namespace: str, kind: type[_C]) -> builtins.list[_C]:
        with self._lock:
            return list(self._items(namespace, kind).values())  # type: ignore[arg-type]

    def _add(self, child: _C) -> _C:
        with self._lock:
            items = self._items(child.namespace, type(child))
            if child.name in items:
                raise me.duplicate_child(_KIND[type(child)], child.name, child.namespace)
            stored = attrs.evolve(child, id=next(self._ids))  # type: ignore[misc]
            items[child.name] = stored
            return stored

    def _save(self, old_name: str, child: _C) -> _C:
        with self._lock:
            kind = type(child)
            items = self._items(child.namespace, kind)
            current = items.get(old_name)
            if current is None:
                raise me.child_not_found(_KIND[kind], old_name, child.namespace)
            if child.name != old_name and child.name in items:
                raise me.duplicate_on_update(_KIND[kind], child.name, child.namespace)
            stored = attrs.evolve(child, id=current.id)  # type: ignore[attr-defined, misc]
            if child.name == old_name:
                items[old_name] = stored
            else:  # keep the position (id order) of the renamed record
                rebuilt = {(child.name if k == old_name else k): (stored if k == old_name else v)
                           for k, v in items.items()}
                items.clear()
                items.update(rebuilt)
            return stored

    def _remove(self, namespace: str, name: str, kind: type) -> None:
        with self._lock:
            items = self._items(namespace, kind)
            if name not in items:
                raise me.child_not_found(_KIND[kind], name, namespace)
            del items[name]

    def _clear(self, namespace: str, kind: type) -> None:
        with self._lock:
            self._items(namespace, kind).clear()

    # -- properties, objects, tags ----------------------------------------------------------
    def list_properties(self, namespace: str) -> builtins.list[PropertyDefinition]:
        return self._list(namespace, PropertyDefinition)

    def add_property(self, prop: PropertyDefinition) -> PropertyDefinition:
        return self._add(prop)

    def save_property(self, old_name: str, prop: PropertyDefinition) -> PropertyDefinition:
        return self._save(old_name, prop)

    def remove_property(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, PropertyDefinition)

    def remove_properties(self, namespace: str) -> None:
        self._clear(namespace, PropertyDefinition)

    def list_objects(self, namespace: str) -> builtins.list[MetadefObject]:
        return self._list(namespace, MetadefObject)

    def add_object(self, obj: MetadefObject) -> MetadefObject:
        return self._add(obj)

    def save_object(self, old_name: str, obj: MetadefObject) -> MetadefObject:
        return self._save(old_name, obj)

    def remove_object(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, MetadefObject)

    def remove_objects(self, namespace: str) -> None:
        self._clear(namespace, MetadefObject)

    def list_tags(self, namespace: str) -> builtins.list[MetadefTag]:
        return self._list(namespace, MetadefTag)

    def add_tags(
        self, namespace: str, tags: Sequence[MetadefTag], *, replace: bool = False
    ) -> builtins.list[MetadefTag]:
        with self._lock:
            items = self._items(namespace, MetadefTag)
            existing = {} if replace else items
            seen: set[str] = set()
            for tag in tags:
                if tag.name in seen or tag.name in existing:
                    raise me.duplicate_child("tag", tag.name, namespace)
                seen.add(tag.name)
            if replace:
                items.clear()
            return [self._add(tag) for tag in tags]

    def save_tag(self, old_name: str, tag: MetadefTag) -> MetadefTag:
        return self._save(old_name, tag)

    def remove_tag(self, namespace: str, name: str) -> None:
        self._remove(namespace, name, MetadefTag)

    def remove_tags(self, namespace: str) -> None:
        self._clear(namespace, MetadefTag)

    # -- resource types ----------------------------------------------------------------------
    def list_resource_types(self) -> builtins.list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def list_associations(
        self, namespace: str | None = None
    ) -> builtins.list[ResourceTypeAssociation]:
        with self._lock:
            if namespace is None:
                return [a for assocs in self._assocs.values() for a in assocs.values()]
            self.get_namespace(namespace)
            return list(self._assocs.get(namespace, {}).values())

    def add_association(self, association: ResourceTypeAssociation) -> ResourceTypeAssociation:
        with self._lock:
            self.get_namespace(association.namespace)
            assocs = self._assocs.setdefault(association.namespace, {})
            if association.name in assocs:
                raise me.duplicate_association(association.name, association.namespace)
            if association.name not in self._types:
                self._types[association.name] = ResourceType(
                    name=association.name, created_at=association.created_at,
                    updated_at=association.updated_at,
                )
            assocs[association.name] = association
            return association

    def remove_association(self, namespace: str, name: str) -> None:
        with self._lock:
            self.get_namespace(namespace)
            assocs = self._assocs.get(namespace, {})
            if name not in assocs:
                raise me.association_not_found(name, namespace)
            del assocs[name]
