"""MetadefService: the metadata-definitions operations for one caller.

Each operation loads the namespace once, checks that the caller may see it (admins see
everything; others public namespaces and their project's), fires its Glance policy rules once
through the PolicyEnforcer port, calls the MetadefRepository, and emits Glance's notification
(``metadef_namespace.create`` ...). Listing filters, sorting and paging are done here, over the
repository's complete lists, so every backend behaves the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from glance_domain import visibility
from glance_domain.context import RequestContext
from glance_domain.errors import Forbidden, InvalidInput, NotFound
from glance_domain.metadefs import errors as me
from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceContents,
    NamespaceDetail,
    NamespaceQuery,
    PageQuery,
    PropertyDefinition,
    ResourceType,
    ResourceTypeAssociation,
)
from glance_domain.metadefs.ports import MetadefRepository
from glance_domain.ports import Clock, Notifier, PolicyEnforcer
from glance_domain.timeutil import isotime

T = TypeVar("T", Namespace, MetadefTag, MetadefObject)

NAMESPACE_SORT_KEYS = frozenset({
    "id", "namespace", "display_name", "description", "visibility", "protected", "owner",
    "created_at", "updated_at",
})
CHILD_SORT_KEYS = frozenset({"id", "name", "created_at", "updated_at"})


def _by_name(objects: Iterable[MetadefObject]) -> list[MetadefObject]:
    """Objects as Glance lists them: by name (its unique (namespace, name) index order)."""
    return sorted(objects, key=lambda o: o.name)


def _sort_value(value: Any) -> tuple[bool, Any]:
    """NULLs sort first (ascending), as SQLite and MySQL order them."""
    return (value is not None, value)


def paginate(
    items: Sequence[T], page: PageQuery, allowed: frozenset[str],
    marker: T | None = None,
) -> list[T]:
    """Sort by (sort_key, created_at, id) in ``sort_dir``, start after ``marker``, cut at
    ``limit`` (Glance's keyset pagination)."""
    if page.sort_key not in allowed:
        raise InvalidInput(f"Invalid sort key: {page.sort_key}")
    keys = [page.sort_key] + [k for k in ("created_at", "id") if k != page.sort_key]

    def key(item: T) -> tuple[tuple[bool, Any], ...]:
        return tuple(_sort_value(getattr(item, k)) for k in keys)

    reverse = page.sort_dir == "desc"
    ordered = sorted(items, key=key, reverse=reverse)
    if marker is not None:
        mark = key(marker)
        ordered = [i for i in ordered if (key(i) < mark if reverse else key(i) > mark)]
    if page.limit is not None:
        ordered = ordered[: page.limit]
    return ordered


class MetadefService:
    """Metadata-definition operations on behalf of ``context``."""

    def __init__(
        self,
        *,
        context: RequestContext,
        repository: MetadefRepository,
        policy: PolicyEnforcer,
        notifier: Notifier,
        clock: Clock,
    ) -> None:
        self.context = context
        self.repository = repository
        self.policy = policy
        self.notifier = notifier
        self.clock = clock

    # -- helpers -----------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        return self.clock.now().replace(microsecond=0)

    def _target(self, ns: Namespace | None) -> dict[str, Any]:
        if ns is None:
            return {"project_id": self.context.project_id}
        return {"project_id": ns.owner, "visibility": ns.visibility}

    def _visible(self, ns: Namespace) -> bool:
        return visibility.can_see_owned(self.context, ns.owner, ns.visibility)

    def _enforce(self, rule: str, ns: Namespace | None = None) -> None:
        """Fire ``rule``; a refusal on a namespace the caller cannot get is NotFound."""
        target = self._target(ns)
        if self.policy.check(self.context, rule, target):
            return
        if ns is not None and (
            rule == "get_metadef_namespace"
            or not self.policy.check(self.context, "get_metadef_namespace", target)
        ):
            raise me.PolicyHidden("The resource could not be found.")
        raise Forbidden(f"You are not authorized to complete {rule} action.")

    def _notify(self, event: str, payload: Mapping[str, Any]) -> None:
        self.notifier.notify(self.context, event, payload)

    def namespace(self, name: str) -> Namespace:
        """Load a namespace the caller may see (``NamespaceHidden`` when it may not)."""
        ns = self.repository.get_namespace(name)
        if not self._visible(ns):
            raise me.NamespaceHidden("You are not authorized to complete this action.", name)
        return ns

    # -- namespaces ----------------------------------------------------------------------------
    def list_namespaces(
        self, query: NamespaceQuery
    ) -> list[tuple[Namespace, list[ResourceTypeAssociation]]]:
        """Visible namespaces matching ``query``, each with its resource-type associations."""
        self._enforce("get_metadef_namespaces")
        self._enforce("list_metadef_resource_types")
        marker = self.namespace(query.marker) if query.marker else None
        assocs: dict[str, list[ResourceTypeAssociation]] = {}
        for assoc in self.repository.list_associations():
            assocs.setdefault(assoc.namespace, []).append(assoc)
        wanted = set(query.resource_types)
        candidates = [
            ns for ns in self.repository.list_namespaces()
            if self._visible(ns)
            and (query.visibility is None or ns.visibility == query.visibility)
            and (not wanted or any(a.name in wanted for a in assocs.get(ns.namespace, ())))
        ]
        page = paginate(candidates, query, NAMESPACE_SORT_KEYS, marker)
        page = [ns for ns in page if self.policy.check(
            self.context, "get_metadef_namespace", self._target(ns))]
        return [(ns, assocs.get(ns.namespace, [])) for ns in page]

    def get_namespace(self, name: str, resource_type: str | None = None) -> NamespaceDetail:
        """A namespace with its contents; ``resource_type`` prefixes property names with that
        association's prefix."""
        ns = self.namespace(name)
        self._enforce("get_metadef_namespace", ns)
        for rule in ("list_metadef_resource_types", "get_metadef_objects",
                     "get_metadef_properties", "get_metadef_tags"):
            self._enforce(rule, ns)
        repo = self.repository
        detail = NamespaceDetail(
            namespace=ns,
            properties=tuple(repo.list_properties(name)),
            objects=tuple(_by_name(repo.list_objects(name))),
            tags=tuple(paginate(repo.list_tags(name), PageQuery(), CHILD_SORT_KEYS)),
            associations=tuple(repo.list_associations(name)),
        )
        prefix = next((a.prefix for a in detail.associations if a.name == resource_type), None)
        if resource_type and prefix:
            detail = _prefixed(detail, prefix)
        return detail

    def create_namespace(
        self, namespace: Namespace, contents: NamespaceContents = NamespaceContents()
    ) -> Namespace:
        """Create a namespace with its embedded children, all or nothing."""
        self._enforce("add_metadef_namespace")
        for rule, present in (
            ("add_metadef_resource_type_association", contents.associations),
            ("add_metadef_object", contents.objects),
            ("add_metadef_property", contents.properties),
            ("add_metadef_tag", contents.tags),
        ):
            if present:
                self._enforce(rule)
        now = self._now()
        owner = namespace.owner if namespace.owner is not None else self.context.owner
        ns = attrs.evolve(namespace, owner=owner, created_at=now, updated_at=now)
        name = ns.namespace

        def stamp(items: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(attrs.evolve(i, namespace=name, created_at=now, updated_at=now)
                         for i in items)

        stored = self.repository.add_namespace(ns, NamespaceContents(
            properties=stamp(contents.properties), objects=stamp(contents.objects),
            tags=stamp(contents.tags), associations=stamp(contents.associations),
        ))
        self._notify("metadef_namespace.create", namespace_payload(stored))
        return stored

    def update_namespace(self, name: str, new: Namespace) -> Namespace:
        """Replace a namespace's attributes (``new``: what the caller sent, with defaults)."""
        ns = self.namespace(name)
        self._enforce("modify_metadef_namespace", ns)
        owner = new.owner if new.owner else self.context.owner
        updated = attrs.evolve(new, owner=owner, created_at=ns.created_at,
                               updated_at=self._now(), id=ns.id)
        stored = self.repository.save_namespace(name, updated)
        self._notify("metadef_namespace.update",
                     {**namespace_payload(stored), "namespace_old": name})
        return stored

    def delete_namespace(self, name: str) -> None:
        ns = self.namespace(name)
        self._enforce("delete_metadef_namespace", ns)
        if ns.protected:
            raise me.protected("namespace", name)
        self.repository.remove_namespace(name)
        self._notify("metadef_namespace.delete", {**namespace_payload(ns), "deleted": True})

    def delete_contents(self, name: str, kind: str) -> None:
        """Delete every property, object or tag (``kind``) of a namespace."""
        ns = self.namespace(name)
        self._enforce("delete_metadef_namespace", ns)
        if kind == "tags":
            self._enforce("delete_metadef_tags", ns)
        if ns.protected:
            raise me.protected("namespace", name)
        remove: Callable[[str], None] = {
            "properties": self.repository.remove_properties,
            "objects": self.repository.remove_objects,
            "tags": self.repository.remove_tags,
        }[kind]
        remove(name)
        self._notify(f"metadef_namespace.delete_{kind}", namespace_payload(ns))

    # -- properties ----------------------------------------------------------------------------
    def list_properties(self, namespace: str) -> list[PropertyDefinition]:
        ns = self.namespace(namespace)
        self._enforce("get_metadef_properties", ns)
        return self.repository.list_properties(namespace)

    def get_property(
        self, namespace: str, name: str, resource_type: str | None = None
    ) -> PropertyDefinition:
        ns = self.namespace(namespace)
        self._enforce("get_metadef_property", ns)
        if resource_type:
            self._enforce("get_metadef_resource_type", ns)
            assoc = next((a for a in self.repository.list_associations(namespace)
                          if a.name == resource_type), None)
            if assoc is None:
                raise me.association_not_found(resource_type, namespace)
            prefix = assoc.prefix
            if not prefix or not name.startswith(prefix):
                raise NotFound(
                    f"Property {name} does not start with the expected resource type "
                    f"association prefix of '{prefix}'."
                )
            name = name[len(prefix):]
        return self._find(self.repository.list_properties(namespace), "property", name,
                          namespace)

    def create_property(self, prop: PropertyDefinition) -> PropertyDefinition:
        ns = self.namespace(prop.namespace)
        self._enforce("add_metadef_property", ns)
        now = self._now()
        stored = self.repository.add_property(attrs.evolve(prop, created_at=now, updated_at=now))
        self._notify("metadef_property.create", property_payload(stored))
        return stored

    def update_property(self, old_name: str, prop: PropertyDefinition) -> PropertyDefinition:
        ns = self.namespace(prop.namespace)
        self._enforce("modify_metadef_property", ns)
        current = self._find(self.repository.list_properties(prop.namespace), "property",
                             old_name, prop.namespace)
        stored = self.repository.save_property(old_name, attrs.evolve(
            prop, created_at=current.created_at, updated_at=self._now()))
        self._notify("metadef_property.update",
                     {**property_payload(stored), "name_old": old_name})
        return stored

    def delete_property(self, namespace: str, name: str) -> None:
        ns = self.namespace(namespace)
        self._enforce("remove_metadef_property", ns)
        prop = self._find(self.repository.list_properties(namespace), "property", name,
                          namespace)
        if ns.protected:
            raise me.protected("property", name)
        self.repository.remove_property(namespace, name)
        self._notify("metadef_property.delete", {**property_payload(prop), "deleted": True})

    # -- objects -------------------------------------------------------------------------------
    def list_objects(self, namespace: str, page: PageQuery = PageQuery()) -> list[MetadefObject]:
        """All the namespace's objects by name. Glance 33 accepts (and validates) ``page`` but
        its object repository ignores it: every object, in the order of its (namespace, name)
        index."""
        ns = self.namespace(namespace)
        self._enforce("get_metadef_objects", ns)
        return _by_name(self.repository.list_objects(namespace))

    def get_object(self, namespace: str, name: str) -> MetadefObject:
        ns = self.namespace(namespace)
        self._enforce("get_metadef_object", ns)
        return self._find(self.repository.list_objects(namespace), "object", name, namespace)

    def create_object(self, obj: MetadefObject) -> MetadefObject:
        ns = self.namespace(obj.namespace)
        self._enforce("add_metadef_object", ns)
        now = self._now()
        stored = self.repository.add_object(attrs.evolve(obj, created_at=now, updated_at=now))
        self._notify("metadef_object.create", object_payload(stored))
        return stored

    def update_object(self, old_name: str, obj: MetadefObject) -> MetadefObject:
        ns = self.namespace(obj.namespace)
        self._enforce("modify_metadef_object", ns)
        current = self._find(self.repository.list_objects(obj.namespace), "object", old_name,
                             obj.namespace)
        stored = self.repository.save_object(old_name, attrs.evolve(
            obj, created_at=current.created_at, updated_at=self._now()))
        self._notify("metadef_object.update", {**object_payload(stored), "name_old": old_name})
        return stored

    def delete_object(self, namespace: str, name: str) -> None:
        ns = self.namespace(namespace)
        self._enforce("delete_metadef_object", ns)
        obj = self._find(self.repository.list_objects(namespace), "object", name, namespace)
        if ns.protected:
            raise me.protected("object", name)
        self.repository.remove_object(namespace, name)
        self._notify("metadef_object.delete", {**object_payload(obj), "deleted": True})

    # -- tags ------------------------------------------------------------------------------------
    def list_tags(self, namespace: str, page: PageQuery = PageQuery()) -> list[MetadefTag]:
        ns = self.namespace(namespace)
        self._enforce("get_metadef_tags", ns)
        tags = self.repository.list_tags(namespace)
        marker = self._find(tags, "tag", page.marker, namespace) if page.marker else None
        return paginate(tags, page, CHILD_SORT_KEYS, marker)

    def get_tag(self, namespace: str, name: str) -> MetadefTag:
        ns = self.namespace(namespace)
        self._enforce("get_metadef_tag", ns)
        return self._find(self.repository.list_tags(namespace), "tag", name, namespace)

    def create_tag(self, namespace: str, name: str) -> MetadefTag:
        ns = self.namespace(namespace)
        self._enforce("add_metadef_tag", ns)
        now = self._now()
        [stored] = self.repository.add_tags(namespace, [
            MetadefTag(namespace=namespace, name=name, created_at=now, updated_at=now)])
        self._notify("metadef_tag.create", tag_payload(stored))
        return stored

    def create_tags(
        self, namespace: str, names: Sequence[str], *, append: bool = False
    ) -> list[MetadefTag]:
        """Bulk create: replaces the namespace's tags unless ``append``."""
        ns = self.namespace(namespace)
        self._enforce("add_metadef_tags", ns)
        now = self._now()
        stored = self.repository.add_tags(namespace, [
            MetadefTag(namespace=namespace, name=n, created_at=now, updated_at=now)
            for n in names], replace=not append)
        for tag in stored:
            self._notify("metadef_tag.create", tag_payload(tag))
        return stored

    def update_tag(self, namespace: str, old_name: str, name: str) -> MetadefTag:
        ns = self.namespace(namespace)
        self._enforce("modify_metadef_tag", ns)
        current = self._find(self.repository.list_tags(namespace), "tag", old_name, namespace)
        stored = self.repository.save_tag(old_name, attrs.evolve(
            current, name=name, updated_at=self._now()))
        self._notify("metadef_tag.update", {**tag_payload(stored), "name_old": old_name})
        return stored

    def delete_tag(self, namespace: str, name: str) -> None:
        ns = self.namespace(namespace)
        self._enforce("delete_metadef_tag", ns)
        tag = self._find(self.repository.list_tags(namespace), "tag", name, namespace)
        if ns.protected:
            raise me.protected("tag", name)
        self.repository.remove_tag(namespace, name)
        self._notify("metadef_tag.delete", {**tag_payload(tag), "deleted": True})

    # -- resource types --------------------------------------------------------------------------
    def list_resource_types(self) -> list[ResourceType]:
        self._enforce("list_metadef_resource_types")
        return self.repository.list_resource_types()

    def list_associations(self, namespace: str) -> list[ResourceTypeAssociation]:
        ns = self.namespace(namespace)
        self._enforce("list_metadef_resource_types", ns)
        assocs = self.repository.list_associations(namespace)
        if not self.policy.check(self.context, "get_metadef_resource_type", self._target(ns)):
            return []
        return assocs

    def create_association(
        self, association: ResourceTypeAssociation
    ) -> ResourceTypeAssociation:
        ns = self.namespace(association.namespace)
        self._enforce("add_metadef_resource_type_association", ns)
        now = self._now()
        stored = self.repository.add_association(
            attrs.evolve(association, created_at=now, updated_at=now))
        self._notify("metadef_resource_type.create", association_payload(stored))
        return stored

    def delete_association(self, namespace: str, name: str) -> None:
        ns = self.namespace(namespace)
        self._enforce("remove_metadef_resource_type_association", ns)
        assoc = next((a for a in self.repository.list_associations(namespace)
                      if a.name == name), None)
        if assoc is None:
            raise me.association_not_found(name, namespace)
        if ns.protected:
            raise me.protected("association", name)
        self.repository.remove_association(namespace, name)
        self._notify("metadef_resource_type.delete",
                     {**association_payload(assoc), "deleted": True})

    @staticmethod
    def _find(items: Iterable[Any], kind: str, name: str | None, namespace: str) -> Any:
        for item in items:
            if item.name == name:
                return item
        raise me.child_not_found(kind, str(name), namespace)


def _prefixed(detail: NamespaceDetail, prefix: str) -> NamespaceDetail:
    """Property names (and object required lists) as the resource type sees them."""
    props = tuple(attrs.evolve(p, name=prefix + p.name) for p in detail.properties)
    objects = tuple(
        attrs.evolve(o, properties={prefix + k: v for k, v in o.properties.items()},
                     required=[prefix + r for r in o.required])
        for o in detail.objects
    )
    return attrs.evolve(detail, properties=props, objects=objects)


def namespace_payload(ns: Namespace) -> dict[str, Any]:
    return {
        "namespace": ns.namespace, "namespace_old": ns.namespace,
        "display_name": ns.display_name, "protected": ns.protected,
        "visibility": ns.visibility, "owner": ns.owner, "description": ns.description,
        "created_at": isotime(ns.created_at), "updated_at": isotime(ns.updated_at),
        "deleted": False, "deleted_at": None,
    }


def property_payload(prop: PropertyDefinition) -> dict[str, Any]:
    return {"namespace": prop.namespace, "name": prop.name, "name_old": prop.name,
            **prop.schema, "deleted": False, "deleted_at": None}


def object_payload(obj: MetadefObject) -> dict[str, Any]:
    return {
        "namespace": obj.namespace, "name": obj.name, "name_old": obj.name,
        "properties": dict(obj.properties), "required": list(obj.required),
        "description": obj.description, "created_at": isotime(obj.created_at),
        "updated_at": isotime(obj.updated_at), "deleted": False, "deleted_at": None,
    }


def tag_payload(tag: MetadefTag) -> dict[str, Any]:
    return {"namespace": tag.namespace, "name": tag.name, "name_old": tag.name,
            "created_at": isotime(tag.created_at), "updated_at": isotime(tag.updated_at),
            "deleted": False, "deleted_at": None}


def association_payload(assoc: ResourceTypeAssociation) -> dict[str, Any]:
    return {"namespace": assoc.namespace, "name": assoc.name, "prefix": assoc.prefix,
            "properties_target": assoc.properties_target,
            "created_at": isotime(assoc.created_at), "updated_at": isotime(assoc.updated_at),
            "deleted": False, "deleted_at": None}
