"""v1 request headers -> v2 create attributes or update changes, with v2's write rules.

What v2 does not let a client write stays unwritable here: ``status`` (v1's status forging),
``checksum``/``size`` (accepted only as the expected checksum and size of data sent in the same
request), timestamps and ``deleted``. ``is_public`` becomes ``visibility``: true is ``public``;
false is v2's default (``shared``, so the image can have members as in v1) for a new image,
and turns a public image ``shared``.
"""

from __future__ import annotations

from typing import Any

from glance_domain.changes import Change
from glance_domain.model.image import Image
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.errors import forbidden
from glance_domain_adapters.wsgi.v1.meta import V1Meta

#: v1 fields that are v2 attributes of the same name.
SAME_NAME = ("name", "disk_format", "container_format", "min_disk", "min_ram", "protected",
             "owner")
#: Fields a v1 client may never set (v2 read-only), besides status and id on update.
READ_ONLY = ("status", "created_at", "updated_at", "deleted_at", "deleted", "virtual_size",
             "uri")
#: Fields that describe the data of the same request (expected size, md5) or its source.
DATA_FIELDS = ("size", "checksum")
NOT_ATTRIBUTES = ("location", "copy_from", "store")
RESERVED_PREFIX = "os_glance"


def _read_only(name: str) -> Exception:
    return forbidden(f"Attribute '{name}' is read-only.")


def create_attributes(meta: V1Meta, settings: DomainSettings, *, has_data: bool) -> dict[str, Any]:
    """The ``create_image`` keyword arguments of a v1 POST."""
    fields = meta.fields
    for name in READ_ONLY:
        if name in fields:
            raise _read_only(name)
    if not has_data:
        for name in DATA_FIELDS:
            if fields.get(name) is not None:
                raise _read_only(name)
    attributes: dict[str, Any] = {
        name: fields[name] for name in SAME_NAME if fields.get(name) is not None
    }
    if fields.get("id") is not None:
        attributes["id"] = fields["id"]
    if fields.get("is_public"):
        attributes["visibility"] = "public"
    attributes.update(meta.properties)
    return attributes


def update_changes(
    image: Image, meta: V1Meta, purge_props: bool, *, uploading: bool, is_admin: bool,
) -> list[Change]:
    """The changes of a v1 PUT to ``image`` (only what differs, so re-sending a value that is
    already there is never refused)."""
    fields = meta.fields
    for name in ("status", "id"):
        if name in fields and fields[name] != getattr(image, name):
            raise forbidden(f"Forbidden to modify '{name}' of image.")
    for name in READ_ONLY:
        if name not in ("status", "id") and name in fields:
            raise _read_only(name)
    for name in DATA_FIELDS:
        value = fields.get(name)
        if value is None or value == getattr(image, name) or uploading:
            continue
        if image.status in ("active", "deactivated") and not is_admin:
            raise forbidden(f"Forbidden to modify '{name}' of {image.status} image.")
        raise _read_only(name)
    changes: list[Change] = []
    for name in SAME_NAME:
        if name in fields and fields[name] != getattr(image, name):
            changes.append(Change("replace", (name,), fields[name]))
    if "is_public" in fields:
        if fields["is_public"] and image.visibility != "public":
            changes.append(Change("replace", ("visibility",), "public"))
        elif not fields["is_public"] and image.visibility == "public":
            changes.append(Change("replace", ("visibility",), "shared"))
    current = image.extra_properties
    for key, value in meta.properties.items():
        if current.get(key) != value:
            changes.append(Change("add", (key,), value))
    if purge_props:
        for key in current:
            if key not in meta.properties and not key.startswith(RESERVED_PREFIX):
                changes.append(Change("remove", (key,)))
    return changes
