"""Plain-dict views of domain records, shaped like Glance's JSON (what ``-f json`` prints)."""

from __future__ import annotations

from typing import Any

from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.timeutil import isotime


def image_view(image: Image) -> dict[str, Any]:
    """The image's attributes and extra properties (as ``GET /v2/images/{id}`` shows them)."""
    stores = sorted({loc.backend for loc in image.locations if loc.backend})
    view: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "tags": sorted(image.tags),
        "created_at": isotime(image.created_at),
        "updated_at": isotime(image.updated_at),
    }
    if stores:
        view["stores"] = ",".join(stores)
    for key, value in image.extra_properties.items():
        view.setdefault(key, value)
    return view


def member_view(member: Member) -> dict[str, Any]:
    """An image member (as ``GET /v2/images/{id}/members/{member}`` shows it)."""
    return {
        "image_id": member.image_id,
        "member_id": member.member_id,
        "status": member.status,
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
    }
