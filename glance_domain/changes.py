"""Requested changes to an image (from a JSON-patch document, the CLI, or a library caller).

A ``Change`` is Glance's JSON-patch operation in domain terms: ``op`` is add, replace or remove;
``path`` is the split JSON pointer (``("name",)``, ``("tags",)``, ``("locations", "-")``,
``("my_property",)``). ``apply_changes`` validates them with Glance's rules and returns the new
Image; ``diff`` tells layers what differs between two images.

Glance's patch semantics, kept here:

- ``add`` of an existing attribute or property replaces it (JSON-patch draft 10 media type).
- ``replace`` or ``remove`` of a property the image does not have -> ``Conflict``.
- ``remove`` of a core attribute -> ``Forbidden`` ("may not be removed").
- read-only attributes -> ``ReadOnlyAttribute``; ``os_glance_*``/reserved names ->
  ``ReservedAttribute`` (both 403 in Glance).
- ``disk_format``/``container_format`` may only be set while the image is queued (or importing).
- ``locations`` changes are refused unless ``show_multiple_locations`` is on; then they are
  left to :mod:`glance_domain.location_patch` (they need the stores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs

from glance_domain.errors import Conflict, Forbidden, InvalidInput, ReadOnlyAttribute
from glance_domain.model import validation
from glance_domain.model.image import CORE_ATTRIBUTES, Image
from glance_domain.settings import DomainSettings

ChangeOp = Literal["add", "replace", "remove"]
#: ``check(name, operation)``: may the caller ``create``, ``update`` or ``delete`` the extra
#: property ``name`` (raises when not; see ``glance_domain.layers.protection``).
PropertyCheck = Callable[[str, str], None]

#: Attributes a patch may never touch (Glance's list; ``id`` is writable only at creation).
PATCH_READ_ONLY = frozenset(
    {
        "created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
        "self", "file", "schema", "id", "os_hash_algo", "os_hash_value", "stores",
    }
)
_PATCHABLE_CORE = validation.WRITABLE_ATTRIBUTES - {"id"}
_FORMAT_FIELDS = ("disk_format", "container_format")
_SCALAR_FIELDS = tuple(f for f in CORE_ATTRIBUTES if f not in ("tags", "locations"))


@attrs.frozen
class Change:
    """One add/replace/remove of an attribute, extra property, tags or locations."""

    op: ChangeOp
    path: tuple[str, ...]
    value: Any = None


@attrs.frozen(kw_only=True)
class ImageDiff:
    """What differs between two versions of an image (computed once per save)."""

    fields: frozenset[str] = frozenset()
    added_properties: frozenset[str] = frozenset()
    removed_properties: frozenset[str] = frozenset()
    changed_properties: frozenset[str] = frozenset()
    added_tags: frozenset[str] = frozenset()
    removed_tags: frozenset[str] = frozenset()
    locations_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.fields or self.added_properties or self.removed_properties
            or self.changed_properties or self.added_tags or self.removed_tags
            or self.locations_changed
        )


def diff(before: Image, after: Image) -> ImageDiff:
    """Compare two versions of the same image."""
    if before is after:
        return ImageDiff()
    fields = frozenset(
        f for f in _SCALAR_FIELDS if getattr(before, f) != getattr(after, f)
    ) - {"updated_at"}
    bp, ap = before.extra_properties, after.extra_properties
    added = removed = changed = frozenset[str]()
    if bp != ap:
        added = frozenset(k for k in ap if k not in bp)
        removed = frozenset(k for k in bp if k not in ap)
        changed = frozenset(k for k in ap if k in bp and bp[k] != ap[k])
    return ImageDiff(
        fields=fields,
        added_properties=added,
        removed_properties=removed,
        changed_properties=changed,
        added_tags=after.tags - before.tags,
        removed_tags=before.tags - after.tags,
        locations_changed=before.locations != after.locations,
    )


def apply_changes(
    image: Image, changes: Sequence[Change], settings: DomainSettings,
    check_property: PropertyCheck | None = None,
) -> Image:
    """Apply ``changes`` in order, all or none, and return the new image (``image`` untouched).

    Who may make the change (owner, admin, policy) is decided by the layers, not here;
    ``check_property`` is asked about each extra property operation as it is applied
    (``update`` when the property is there at that point, else ``create``; ``delete``).
    """
    core: dict[str, Any] = {}
    props: dict[str, Any] | None = None
    for change in changes:
        if change.op not in ("add", "replace", "remove"):
            raise InvalidInput(f"Invalid operation: '{change.op}'.")
        if not change.path:
            raise InvalidInput("Invalid JSON pointer for this resource: '/'")
        name = change.path[0]
        if name == "locations":
            _refuse_locations(change, settings)
            continue  # applied by glance_domain.location_patch (it needs the stores)
        if name in PATCH_READ_ONLY:
            raise ReadOnlyAttribute(f"Attribute '{name}' is read-only.")
        validation.check_writable_name(name)
        if len(change.path) != 1:
            raise InvalidInput(
                f"Invalid JSON pointer for this resource: '/{'/'.join(change.path)}'"
            )
        if name in _PATCHABLE_CORE:
            if change.op == "remove":
                raise Forbidden(f"Property {name} may not be removed.")
            if name in _FORMAT_FIELDS and image.status not in ("queued", "importing"):
                raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
            core[name] = validation.attribute(name, change.value, settings)
            continue
        if props is None:
            props = dict(image.extra_properties)
        if change.op == "remove":
            if name not in props:
                raise _missing(name)
            if check_property is not None:
                check_property(name, "delete")
            del props[name]
            continue
        if change.op == "replace" and name not in props:
            raise _missing(name)
        validation.property_name(name)
        value = validation.property_value(name, change.value)
        if check_property is not None:
            check_property(name, "update" if name in props else "create")
        props[name] = value
    if props is not None:
        core["extra_properties"] = props
    if not core:
        return image
    return attrs.evolve(image, **core)


def _missing(name: str) -> Exception:
    return Conflict(f"Property {name} does not exist.")


def _refuse_locations(change: Change, settings: DomainSettings) -> None:
    if change.op == "replace" and not change.value:  # Glance checks this first
        raise Forbidden("Cannot set locations to empty list.")
    if not settings.show_multiple_locations:
        verb = {"remove": "remove", "add": "add"}.get(change.op, "update")
        raise Forbidden(f"It's not allowed to {verb} locations if locations are invisible.")
