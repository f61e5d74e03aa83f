"""Metadata-definition records (Glance's "metadefs"): immutable attrs records.

A *namespace* groups property definitions, objects (named groups of properties), tags and
associations with resource types (``OS::Glance::Image``, ``OS::Nova::Flavor``...). Children are
addressed by (namespace name, child name). ``id`` is the repository's creation sequence: it breaks
ties when sorting (timestamps have whole seconds) as Glance's ``id`` sort key does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

#: Visibilities a namespace may have.
NAMESPACE_VISIBILITIES = ("public", "private")
#: Keys of a property definition, in the order Glance serializes them.
PROPERTY_KEYS = (
    "type", "title", "description", "operators", "default", "readonly", "minimum", "maximum",
    "enum", "pattern", "minLength", "maxLength", "confidential", "items", "uniqueItems",
    "minItems", "maxItems", "additionalItems",
)
#: Keys of an array property's ``items``.
ITEM_KEYS = ("type", "enum")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _frozen_dict(value: Any) -> Mapping[str, Any]:
    return dict(value or {})


def normalize_property(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A property definition reduced to Glance's known keys, in its order, without nulls."""
    out: dict[str, Any] = {}
    for key in PROPERTY_KEYS:
        value = schema.get(key)
        if value is None:
            continue
        if key == "items" and isinstance(value, Mapping):
            value = {k: value[k] for k in ITEM_KEYS if value.get(k) is not None}
        out[key] = value
    return out


@attrs.frozen(kw_only=True)
class Namespace:
    """A metadata-definition namespace (its children are separate records)."""

    namespace: str
    display_name: str | None = None
    description: str | None = None
    visibility: str = "private"
    protected: bool = False
    owner: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen(kw_only=True)
class PropertyDefinition:
    """A property definition of a namespace: a JSON-schema fragment (``normalize_property``)."""

    namespace: str
    name: str
    schema: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen(kw_only=True)
class MetadefObject:
    """A named group of property definitions (``properties``: name -> definition)."""

    namespace: str
    name: str
    description: str | None = None
    required: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    properties: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen(kw_only=True)
class MetadefTag:
    """A tag definition of a namespace."""

    namespace: str
    name: str
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


@attrs.frozen(kw_only=True)
class ResourceType:
    """A kind of resource namespaces apply to (created on first association)."""

    name: str
    protected: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ResourceTypeAssociation:
    """Namespace <-> resource type, with the property-name ``prefix`` for that resource."""

    namespace: str
    name: str
    prefix: str | None = None
    properties_target: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class NamespaceDetail:
    """A namespace with everything it contains (the namespace ``show``)."""

    namespace: Namespace
    properties: tuple[PropertyDefinition, ...] = ()
    objects: tuple[MetadefObject, ...] = ()
    tags: tuple[MetadefTag, ...] = ()
    associations: tuple[ResourceTypeAssociation, ...] = ()


@attrs.frozen(kw_only=True)
class PageQuery:
    """Sorting and paging of a listing: Glance sorts by ``sort_key`` then created_at, id.

    ``marker`` is the name of the last item of the previous page; ``limit`` None = all.
    """

    limit: int | None = None
    marker: str | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"


@attrs.frozen(kw_only=True)
class NamespaceQuery(PageQuery):
    """``GET /v2/metadefs/namespaces``: ``visibility`` and ``resource_types`` filters."""

    visibility: str | None = None
    resource_types: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(kw_only=True)
class NamespaceContents:
    """What a namespace is created with (``POST /v2/metadefs/namespaces`` embeds children)."""

    properties: tuple[PropertyDefinition, ...] = ()
    objects: tuple[MetadefObject, ...] = ()
    tags: tuple[MetadefTag, ...] = ()
    associations: tuple[ResourceTypeAssociation, ...] = ()
