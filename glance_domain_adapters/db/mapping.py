"""Rows <-> domain entities, and the datetime convention of the database.

The database holds naive UTC timestamps truncated to whole seconds (Glance's MySQL ``DATETIME``
precision, and the precision the API shows), so the same value compares equal on every backend
and a ``created_at=eq:<shown value>`` filter finds the image. Entities carry naive UTC datetimes,
like the rest of the project (``glance_domain.clock.SystemClock``); aware values given to the
repository (entities or filters) are converted to UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from glance_domain.model.image import CORE_ATTRIBUTES, Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member

#: Image attributes stored as columns of ``images``: the entity's core attributes except the
#: timestamps (set by the repository) and tags/locations (child tables), in the same order.
IMAGE_COLUMNS = tuple(
    a for a in CORE_ATTRIBUTES if a not in ("created_at", "updated_at", "tags", "locations")
)

#: Columns a listing may filter/sort on directly (everything else is an extra property).
FILTERABLE_COLUMNS = frozenset((*IMAGE_COLUMNS, "created_at", "updated_at"))


def to_db_time(value: dt.datetime | None) -> dt.datetime | None:
    """Aware (or naive UTC) datetime -> naive UTC, microseconds kept (``DATETIME(6)``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def from_db_time(value: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC from the database, as entities carry it (MySQL may give back None)."""
    return value


def normalize_time(value: dt.datetime) -> dt.datetime:
    """The (naive UTC) datetime the database will give back for ``value``."""
    stored = to_db_time(value)
    assert stored is not None
    return stored


def image_values(image: Image) -> dict[str, Any]:
    """Column values of ``images`` for an entity (without soft-delete columns)."""
    values = {name: getattr(image, name) for name in IMAGE_COLUMNS}
    values["created_at"] = to_db_time(image.created_at)
    values["updated_at"] = to_db_time(image.updated_at)
    return values


def encode_metadata(metadata: Mapping[str, Any]) -> str:
    """Location metadata as Glance stores it: a JSON object in a TEXT column."""
    return json.dumps(dict(metadata), sort_keys=True)


def decode_metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def location_from_row(row: Any) -> Location:
    return Location(url=row.value, metadata=decode_metadata(row.meta_data), status=row.status)


def image_from_row(
    row: Any,
    *,
    properties: Iterable[tuple[str, Any]] = (),
    tags: Iterable[str] = (),
    locations: Iterable[Location] = (),
) -> Image:
    """An Image entity from an ``images`` row and its (non-deleted) child rows."""
    created = from_db_time(row.created_at)
    updated = from_db_time(row.updated_at) or created
    assert created is not None and updated is not None
    return Image(
        id=row.id,
        name=row.name,
        status=row.status,
        visibility=row.visibility,
        protected=bool(row.protected),
        os_hidden=bool(row.os_hidden),
        checksum=row.checksum,
        os_hash_algo=row.os_hash_algo,
        os_hash_value=row.os_hash_value,
        owner=row.owner,
        size=row.size,
        virtual_size=row.virtual_size,
        min_disk=row.min_disk or 0,
        min_ram=row.min_ram or 0,
        container_format=row.container_format,
        disk_format=row.disk_format,
        created_at=created,
        updated_at=updated,
        tags=frozenset(tags),
        locations=tuple(locations),
        extra_properties=dict(properties),
    )


def member_from_row(row: Any) -> Member:
    created = from_db_time(row.created_at)
    updated = from_db_time(row.updated_at) or created
    assert created is not None and updated is not None
    return Member(
        image_id=row.image_id,
        member_id=row.member,
        status=row.status,
        created_at=created,
        updated_at=updated,
    )
