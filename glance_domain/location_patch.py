"""JSON-patch operations on ``/locations`` (Glance's ``show_multiple_locations`` mode).

With ``show_multiple_locations`` on, Glance lets a PATCH add a location (``/locations/-`` or
``/locations/N``, value ``{"url", "metadata", "validation_data"?}``), replace the whole list
(``/locations``) and remove one (``/locations/N``). Clients that keep image data in a store of
their own use it (Nova and Cinder with Ceph, for instance). Rules, as Glance 33 applies them:

- add/replace only on ``queued`` or ``active`` images, remove only on ``active`` ones (409);
- each new URL must belong to a configured store, pass the web-download URI filtering when it
  is http(s), and hold data (its size is read through the store): else 400 "Invalid location";
- ``image_location_quota`` first (413), then the URL (:mod:`glance_domain.location_rules`:
  restricted schemes never, whoever asks; recorded in its normalised spelling; a URL another
  image lists is a 409 unless its store is read-only); a URL listed already is a
  400 (Glance accepts it again with other metadata; one image lists a URL once here, as its
  database rows are keyed by it); a replacement may only change the metadata of the listed
  URLs, unless the image has none yet;
- the last location cannot be removed (403); positions out of range are a 400;
- a ``queued`` image that gets a location becomes ``active``, with the size read from the
  store and the checksums of ``validation_data`` (checked like Glance: hex, right length,
  ``os_hash_algo`` the configured one; 409 on a conflict).

The rules that decide *who* may do it (``set_image_location``, ``delete_image_location``) are
checked by the layers before; the location count quota on save; the data of a removed
location is deleted by the store layer once the image is saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from glance_domain.changes import Change
from glance_domain.errors import Conflict, Forbidden, InvalidInput, QuotaExceeded
from glance_domain.layers.quota import limit_text
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.status import transition

#: ``url -> (url, backend, size)``: the URL in its normalised spelling (what is recorded), the
#: store owning it and the size of the data there (InvalidInput "Invalid location" when there is
#: none or the URL is refused; Conflict when another image lists it).
Resolver = Callable[[str], tuple[str, str, int]]

VALIDATION_KEYS = ("checksum", "os_hash_algo", "os_hash_value")


def apply_location_changes(
    image: Image, changes: Sequence[Change], resolve: Resolver, hashing_algorithm: str,
    location_quota: int = -1,
) -> Image:
    """``image`` after the location ``changes`` (in order); ``image`` itself is untouched.

    ``location_quota`` (``image_location_quota``, -1: none) is checked where Glance checks it,
    before the URL and duplicate checks (the quota layer checks it again on save)."""
    for change in changes:
        if change.op == "add":
            image = _add(image, change, resolve, hashing_algorithm, location_quota)
        elif change.op == "replace":
            image = _replace(image, change, resolve, hashing_algorithm, location_quota)
        else:
            image = _remove(image, change)
    return image


def _check_quota(attempted: int, quota: int) -> None:
    if 0 <= quota < attempted:
        raise QuotaExceeded(limit_text("image locations", attempted, quota))


def _add(image: Image, change: Change, resolve: Resolver, algorithm: str, quota: int) -> Image:
    if image.status not in ("active", "queued"):
        raise Conflict(f"It's not allowed to add locations if image status is {image.status}.")
    value = _location_value(change.value)
    validation = _validation_data(image, [value], algorithm)
    current = list(image.locations)
    where = change.path[1] if len(change.path) > 1 else "-"
    if where == "-":
        position = len(current)
    elif where.isdigit():
        position = int(where)
    else:
        raise InvalidInput("Invalid position for adding a location.")
    _check_quota(len(current) + 1, quota)
    url, backend, size = resolve(value["url"])
    new = _location({**value, "url": url}, backend)
    if any(loc.url == url for loc in current):
        raise InvalidInput(f"The location {url} already exists")
    current.insert(position, new)
    return _finish(image, tuple(current), size, validation)


def _replace(image: Image, change: Change, resolve: Resolver, algorithm: str,
             quota: int) -> Image:
    if image.status not in ("active", "queued"):
        raise Conflict(
            f"It's not allowed to replace locations if image status is {image.status}.")
    if not isinstance(change.value, list) or not change.value:
        raise Forbidden("Cannot set locations to empty list.")
    values = [_location_value(v) for v in change.value]
    validation = _validation_data(image, values, algorithm)
    _check_quota(len(values), quota)
    wanted = sorted(v["url"] for v in values)
    listed = {loc.url: loc for loc in image.locations}
    if wanted == sorted(listed):  # the same URLs: only their metadata changes
        backends = {url: loc.backend for url, loc in listed.items()}
        locations = tuple(_location(v, backends[v["url"]]) for v in values)
        return attrs.evolve(image, locations=locations)
    if listed:
        raise InvalidInput(
            f"Original locations is not empty: {[loc.url for loc in image.locations]}")
    resolved = [(v, *resolve(v["url"])) for v in values]
    locations = tuple(_location({**v, "url": url}, backend) for v, url, backend, _ in resolved)
    for index, location in enumerate(locations):
        if any(location.url == other.url for other in locations[index + 1:]):
            raise InvalidInput(f"The location {location.url} already exists")
    return _finish(image, locations, resolved[0][3], validation)


def _remove(image: Image, change: Change) -> Image:
    if image.status != "active":
        raise Conflict(
            f"It's not allowed to remove locations if image status is {image.status}.")
    current = list(image.locations)
    if len(current) == 1:
        raise Forbidden("Cannot remove last location in the image.")
    where = change.path[1] if len(change.path) > 1 else "-"
    position = len(current) - 1 if where == "-" else int(where) if where.isdigit() else -1
    if not 0 <= position < len(current):
        raise InvalidInput("Invalid position for removing a location.")
    del current[position]
    return attrs.evolve(image, locations=tuple(current))


def _finish(
    image: Image, locations: tuple[Location, ...], size: int, validation: Mapping[str, str]
) -> Image:
    """The image with its new locations: a queued image becomes active with its size."""
    if image.status == "queued":
        return transition(image, "active", locations=locations,
                          size=image.size if image.size else size, **validation)
    return attrs.evolve(image, locations=locations,
                        size=image.size if image.size else size)


def _location_value(value: Any) -> dict[str, Any]:
    if (not isinstance(value, dict) or not isinstance(value.get("url"), str)
            or not value["url"] or not isinstance(value.get("metadata"), dict)):
        raise InvalidInput("Invalid location: a location is an object with a 'url' string "
                           "and a 'metadata' object.")
    return value


def _location(value: Mapping[str, Any], backend: str | None) -> Location:
    """The location to record: the caller's metadata, its ``store`` the owning backend."""
    metadata = {k: v for k, v in value["metadata"].items() if k != "store"}
    if backend is not None:
        metadata["store"] = backend
    return Location(url=value["url"], metadata=metadata)


def _validation_data(image: Image, values: Sequence[Mapping[str, Any]],
                     algorithm: str) -> dict[str, str]:
    """The checksums ``validation_data`` sets on the image (Glance's checks, 409 on error)."""
    given: dict[str, Any] = {}
    for value in values:
        data = value.get("validation_data")
        if data is None:
            continue
        if not isinstance(data, dict):
            raise InvalidInput("Invalid value for 'validation_data': an object is required.")
        for key, item in data.items():
            if key not in VALIDATION_KEYS:
                raise InvalidInput(f"Invalid key in 'validation_data': {key}")
            if given.get(key, item) != item:
                raise Conflict(f"Conflicting values for {key}")
            given[key] = item
    new: dict[str, str] = {}
    for key, item in given.items():
        current = getattr(image, key)
        if item == current:
            continue
        if current:
            raise Conflict(f"{key} is already set with a different value")
        new[key] = item
    if not new:
        return {}
    if image.status != "queued":
        raise Conflict(f"New value(s) for {', '.join(new)} may only be provided when image "
                       "status is 'queued'")
    if "checksum" in new:
        _check_hex(new["checksum"], 16, "checksum", "md5")
    algo = new.get("os_hash_algo")
    if algo != algorithm:
        raise Conflict(f"os_hash_algo must be {algorithm}, not {algo}")
    _check_hex(new.get("os_hash_value"), hashlib.new(algorithm).digest_size, "os_hash_value",
               algorithm)
    return {k: str(v) for k, v in new.items()}


def hex_length(value: Any) -> int | None:
    """The number of bytes ``value`` spells in hex, or None when it is not a hex string (for
    the checks of a given checksum or hash, whose wording differs between Glance's APIs)."""
    try:
        return len(bytes.fromhex(value))
    except (TypeError, ValueError):
        return None


def _check_hex(value: Any, size: int, name: str, algorithm: str) -> None:
    length = hex_length(value)
    if length is None:
        raise Conflict(f"{name} ({value}) is not a valid hexadecimal value")
    if length != size:
        raise Conflict(f"{name} ({value}) is not the correct size for {algorithm} "
                       f"(should be {size} bytes)")
