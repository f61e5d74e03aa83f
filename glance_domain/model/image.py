"""The Image entity.

An ``Image`` is an immutable attrs record: a change produces a new record (``attrs.evolve``), and
layers compare the record before and after an operation (see ``glance_domain.changes``) instead
of intercepting attribute setters. Collections are immutable too (frozenset, tuple, read-only
mapping), so a record can be shared between layers safely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from glance_domain.model.location import Location

#: Attributes a client may never set (the service computes them).
READ_ONLY_ATTRIBUTES = frozenset(
    {
        "status",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "direct_url",
        "self",
        "file",
        "schema",
        "stores",
    }
)

#: Core attributes stored as columns (everything else is an extra property).
CORE_ATTRIBUTES = (
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "min_disk",
    "min_ram",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "locations",
)

VISIBILITIES = ("public", "private", "shared", "community")


def _freeze_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _freeze_tags(value: Any) -> frozenset[str]:
    return frozenset(value or ())


def _freeze_locations(value: Any) -> tuple[Location, ...]:
    return tuple(value or ())


@attrs.frozen(kw_only=True, hash=False)
class Image:
    """A virtual-machine image's metadata, with Glance v2's attribute set.

    ``extra_properties`` holds the free-form properties (Glance's ``image_properties``), values
    are strings as in Glance. ``tags`` is a frozenset; ``locations`` a tuple in priority order.
    """

    id: str
    name: str | None = None
    status: str = "queued"
    visibility: str = "shared"
    protected: bool = False
    os_hidden: bool = False
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    owner: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    min_disk: int = 0
    min_ram: int = 0
    container_format: str | None = None
    disk_format: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_freeze_tags)
    locations: tuple[Location, ...] = attrs.field(factory=tuple, converter=_freeze_locations)
    extra_properties: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze_mapping)
