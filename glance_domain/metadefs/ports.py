"""The persistence port of metadata definitions.

Everything is addressed by namespace *name* and child name. The service (``service.py``) does
visibility, policy, filtering, sorting and paging; a repository only stores: listings return
every record (metadef catalogues hold tens of namespaces, not millions), ordered by ``id``.
Errors: ``NotFound`` for a missing namespace or child, ``Duplicate`` for a name already taken
(namespace names, child names within a namespace, one association per resource type and
namespace). ``add_namespace`` and ``add_tags`` are all-or-nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceContents,
    PropertyDefinition,
    ResourceType,
    ResourceTypeAssociation,
)


@runtime_checkable
class MetadefRepository(Protocol):
    """Storage of namespaces, their properties, objects, tags and resource-type associations."""

    # namespaces
    def add_namespace(self, namespace: Namespace, contents: NamespaceContents) -> Namespace: ...

    def get_namespace(self, name: str) -> Namespace: ...

    def list_namespaces(self) -> builtins.list[Namespace]: ...

    def save_namespace(self, old_name: str, namespace: Namespace) -> Namespace:
        """Replace the namespace's attributes (a rename keeps its children)."""
        ...

    def remove_namespace(self, name: str) -> None:
        """Delete the namespace and everything in it."""
        ...

    # properties
    def list_properties(self, namespace: str) -> builtins.list[PropertyDefinition]: ...

    def add_property(self, prop: PropertyDefinition) -> PropertyDefinition: ...

    def save_property(self, old_name: str, prop: PropertyDefinition) -> PropertyDefinition: ...

    def remove_property(self, namespace: str, name: str) -> None: ...

    def remove_properties(self, namespace: str) -> None: ...

    # objects
    def list_objects(self, namespace: str) -> builtins.list[MetadefObject]: ...

    def add_object(self, obj: MetadefObject) -> MetadefObject: ...

    def save_object(self, old_name: str, obj: MetadefObject) -> MetadefObject: ...

    def remove_object(self, namespace: str, name: str) -> None: ...

    def remove_objects(self, namespace: str) -> None: ...

    # tags
    def list_tags(self, namespace: str) -> builtins.list[MetadefTag]: ...

    def add_tags(
        self, namespace: str, tags: Sequence[MetadefTag], *, replace: bool = False
    ) -> builtins.list[MetadefTag]:
        """Add tags (``replace``: delete the namespace's other tags first)."""
        ...

    def save_tag(self, old_name: str, tag: MetadefTag) -> MetadefTag: ...

    def remove_tag(self, namespace: str, name: str) -> None: ...

    def remove_tags(self, namespace: str) -> None: ...

    # resource types
    def list_resource_types(self) -> builtins.list[ResourceType]: ...

    def list_associations(
        self, namespace: str | None = None
    ) -> builtins.list[ResourceTypeAssociation]:
        """Associations of one namespace (None: of every namespace)."""
        ...

    def add_association(self, association: ResourceTypeAssociation) -> ResourceTypeAssociation:
        """Associate; the resource type is created (unprotected) when it does not exist."""
        ...

    def remove_association(self, namespace: str, name: str) -> None: ...
