"""v1's image metadata: ``x-image-meta-*`` request headers in, v1 documents and headers out.

v1 describes an image as a flat mapping (``id``, ``name``, ``is_public``, ``size``... and a
``properties`` mapping); requests carry it as ``x-image-meta-<field>`` and
``x-image-meta-property-<key>`` headers. v2's ``visibility`` is shown as ``is_public``
(``public`` or not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from glance_domain.model.image import Image
from glance_domain_adapters.wsgi.errors import bad_request
from glance_domain_adapters.wsgi.http import Request

META_PREFIX = "HTTP_X_IMAGE_META_"
PROPERTY_PREFIX = "HTTP_X_IMAGE_META_PROPERTY_"
#: The fields v1 accepted in ``x-image-meta-<field>`` (any other is "Bad header").
KNOWN_FIELDS = frozenset({
    "location", "size", "is_public", "disk_format", "container_format", "name", "status",
    "copy_from", "uri", "checksum", "created_at", "updated_at", "deleted_at", "min_ram",
    "min_disk", "owner", "store", "id", "protected", "deleted", "virtual_size",
})
_INT_FIELDS = ("size", "min_disk", "min_ram", "virtual_size")
_BOOL_FIELDS = ("is_public", "deleted", "protected")
_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
#: The v1 document's fields, in v1's order (``properties`` last).
DOCUMENT_FIELDS = (
    "id", "name", "size", "disk_format", "container_format", "checksum", "min_disk", "min_ram",
    "status", "is_public", "owner", "protected", "virtual_size", "created_at", "updated_at",
    "deleted_at", "deleted",
)
INDEX_FIELDS = ("id", "name", "size", "disk_format", "container_format", "checksum")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


@attrs.frozen(kw_only=True)
class V1Meta:
    """The metadata headers of one request: v1 fields (typed) and properties."""

    fields: Mapping[str, Any] = attrs.field(factory=dict)
    properties: Mapping[str, str] = attrs.field(factory=dict)


def _text(raw: str) -> str:
    """A header value as text: WSGI gives latin-1 decoded bytes; clients send UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def parse_headers(req: Request) -> V1Meta:
    """The ``x-image-meta-*`` headers of ``req`` (400 as v1 for unknown fields, bad numbers)."""
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for key, raw in req.environ.items():
        if not key.startswith(META_PREFIX):
            continue
        value = _text(str(raw))
        if key.startswith(PROPERTY_PREFIX):
            properties[key[len(PROPERTY_PREFIX):].lower()] = value
            continue
        name = key[len(META_PREFIX):].lower()
        if name not in KNOWN_FIELDS:
            header = "x-image-meta-" + name.replace("_", "-")
            raise bad_request(f"Bad header: {header}")
        fields[name] = value or None
    for name in _INT_FIELDS:
        if fields.get(name) is not None:
            try:
                number = int(fields[name])
            except ValueError:
                raise bad_request(
                    f"Invalid value '{fields[name]}' for parameter '{name}': Cannot convert "
                    f"image {name} '{fields[name]}' to an integer.") from None
            if number < 0:
                raise bad_request(f"Invalid value '{number}' for parameter '{name}': Cannot "
                                  "be a negative value.")
            fields[name] = number
    for name in _BOOL_FIELDS:
        if name in fields:
            fields[name] = str(fields[name] or "").strip().lower() in _TRUE
    return V1Meta(fields=fields, properties=properties)


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime(_TIME_FORMAT)


def document(image: Image) -> dict[str, Any]:
    """The v1 document of an image (``image`` of create/update, an item of ``detail``)."""
    doc: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "size": image.size,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "checksum": image.checksum,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "status": image.status,
        "is_public": image.visibility == "public",
        "owner": image.owner,
        "protected": image.protected,
        "virtual_size": image.virtual_size,
        "created_at": _time(image.created_at),
        "updated_at": _time(image.updated_at),
        "deleted_at": None,
        "deleted": False,
        "properties": {k: str(v) for k, v in image.extra_properties.items()},
    }
    return doc


def index_document(image: Image) -> dict[str, Any]:
    """The brief v1 document of ``GET /v1/images``."""
    full = document(image)
    return {name: full[name] for name in INDEX_FIELDS}


def _header_value(value: Any) -> str:
    """A value as a header: booleans as v1 printed them, UTF-8 bytes as latin-1 for WSGI, and
    no line breaks (a property value must never end the header block)."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8").decode("latin-1")


def headers(image: Image) -> list[tuple[str, str]]:
    """The ``x-image-meta-*`` headers of an image (None values left out, as v1) and ``ETag``."""
    doc = document(image)
    out: list[tuple[str, str]] = []
    for name in DOCUMENT_FIELDS:
        value = doc[name]
        if value is not None:
            out.append((f"x-image-meta-{name}", _header_value(value)))
    for key, value in sorted(doc["properties"].items()):
        name = key.lower()
        if name and all(c.isascii() and (c.isalnum() or c in "-_.:") for c in name):
            out.append((f"x-image-meta-property-{name}", _header_value(value)))
    if image.checksum:
        out.append(("ETag", image.checksum))
    return out
