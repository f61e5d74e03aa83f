"""In-memory implementations of the repository and store ports, for embedding and tests.

``MemoryImageRepository`` follows the ImageRepository contract exactly (compare-and-swap saves,
tombstones so deleted ids are never reused, Glance's listing semantics via the ListScope);
``MemoryStoreRegistry`` keeps image bytes in memory with md5 + the configured multihash.
Both are thread-safe.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from glance_domain.changes import diff
from glance_domain.clock import SystemClock
from glance_domain.errors import (
    Conflict,
    Duplicate,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)
from glance_domain.model.image import CORE_ATTRIBUTES, Image
from glance_domain.model.member import Member
from glance_domain.ports import BackendInfo, Clock, DataStream, StoredData, Usage
from glance_domain.query import Filter, ImageQuery, ListScope, SortKey
from glance_domain.streams import capped
from glance_domain.visibility import scope_matches

_CORE = frozenset(CORE_ATTRIBUTES)
#: Glance's visibility enum order, which is how MySQL/PostgreSQL sort that column.
_VISIBILITY_ORDER = ("private", "public", "shared", "community")
#: Statuses that neither count as images nor consume storage (Glance's quota usage).
_NOT_COUNTED = frozenset({"killed", "pending_delete", "deleted"})
#: Statuses of deleted records (``pending_delete``: deleted, data kept for the scrubber).
GONE = frozenset({"pending_delete", "deleted"})


def _naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _compare(a: Any, b: Any) -> int:
    """Total order with None smallest (as MySQL sorts NULLs, Glance's usual database)."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    a, b = _naive(a), _naive(b)
    return (a > b) - (a < b)


def _sort_value(image: Image, key: str) -> Any:
    value = getattr(image, key)
    if key == "visibility":
        return _VISIBILITY_ORDER.index(value) if value in _VISIBILITY_ORDER else 99
    return value


def _effective_sort(keys: Sequence[SortKey]) -> tuple[SortKey, ...]:
    """Glance appends created_at and id (direction: the only one given, else desc)."""
    result = tuple(keys)
    direction = result[0].direction if len(result) == 1 else "desc"
    present = {k.key for k in result}
    for extra in ("created_at", "id"):
        if extra not in present:
            result = (*result, SortKey(extra, direction))
    return result


def _sort_cmp(keys: Sequence[SortKey]) -> Any:
    def cmp(x: Image, y: Image) -> int:
        for key in keys:
            c = _compare(_sort_value(x, key.key), _sort_value(y, key.key))
            if c:
                return -c if key.direction == "desc" else c
        return 0

    return cmp


def _matches_filter(image: Image, flt: Filter) -> bool:
    if flt.field in _CORE:
        actual = _naive(getattr(image, flt.field))
        value = flt.value
    else:
        if flt.field not in image.extra_properties:
            return False
        actual = image.extra_properties[flt.field]
        value = tuple(str(v) for v in flt.value) if flt.op == "in" else str(flt.value)
    if flt.op == "in":
        return actual in tuple(_naive(v) for v in value)
    value = _naive(value)
    if flt.op == "eq":
        return bool(actual == value)
    if flt.op == "neq":
        return bool(actual != value)
    if actual is None or value is None:
        return False
    try:
        if flt.op == "gt":
            return bool(actual > value)
        if flt.op == "gte":
            return bool(actual >= value)
        if flt.op == "lt":
            return bool(actual < value)
        if flt.op == "lte":
            return bool(actual <= value)
    except TypeError:
        raise InvalidInput(f"Invalid filter value for '{flt.field}'.") from None
    raise InvalidInput(f"Invalid filter operator '{flt.op}'.")


class MemoryImageRepository:
    """ImageRepository port kept in process memory (one lock guards everything)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._images: dict[str, Image] = {}
        self._tombstones: set[str] = set()
        self._members: dict[str, dict[str, Member]] = {}
        #: Delayed deletes: when each pending_delete image went, and the members it had
        #: (``glance_domain.scrub_memory`` scrubs and restores them).
        self.deleted_at: dict[str, dt.datetime] = {}
        self.deleted_members: dict[str, dict[str, Member]] = {}

    # -- images ---------------------------------------------------------------------------
    def add(self, image: Image) -> Image:
        with self._lock:
            if image.id in self._images or image.id in self._tombstones:
                raise Duplicate(f"Image ID {image.id} already exists!")
            self._images[image.id] = image
            return image

    def _live(self, image_id: str) -> Image:
        image = self._images.get(image_id)
        if image is None or image.status in GONE:
            raise NotFound(f"No image found with ID {image_id}")
        return image

    def get(self, image_id: str) -> Image:
        with self._lock:
            return self._live(image_id)

    def list(self, query: ImageQuery, scope: ListScope) -> list[Image]:
        member = next((c.member for c in scope.clauses if c.member is not None), None)
        with self._lock:
            candidates = [i for i in self._images.values() if i.status not in GONE]
            members = self._members

            def visible(image: Image) -> bool:
                status = None
                if member is not None:
                    m = members.get(image.id, {}).get(member)
                    status = m.status if m is not None else None
                return scope_matches(scope, image, status, member)

            marker = None
            if query.marker is not None:
                marker = self._images.get(query.marker)
                if (marker is None or (marker.status in GONE and not scope.admin)
                        or not self._marker_visible(scope, marker)):
                    # invisible answers as nonexistent: no existence oracle
                    raise InvalidInput(f"No image found with ID {query.marker}")
            selected = [i for i in candidates if self._wanted(i, query) and visible(i)]
        cmp = _sort_cmp(_effective_sort(query.sort))
        selected.sort(key=functools.cmp_to_key(cmp))
        if marker is not None:
            selected = [i for i in selected if cmp(i, marker) > 0]
        return selected[: max(query.limit, 0)]

    def _marker_visible(self, scope: ListScope, image: Image) -> bool:
        """Glance's is_image_visible for the caller behind ``scope`` (for the marker)."""
        if scope.unrestricted or scope.admin or image.owner is None:
            return True
        if image.visibility in ("public", "community"):
            return True
        if any(c.owner == image.owner for c in scope.clauses if c.owner is not None):
            return True
        members = self._members.get(image.id, {})
        return any(c.member in members for c in scope.clauses if c.member is not None)

    @staticmethod
    def _wanted(image: Image, query: ImageQuery) -> bool:
        if query.os_hidden is not None and image.os_hidden != query.os_hidden:
            return False
        if query.tags and not image.tags.issuperset(query.tags):
            return False
        return all(_matches_filter(image, f) for f in query.filters)

    def save(self, before: Image, after: Image) -> Image:
        with self._lock:
            stored = self._live(before.id)
            if stored.status != before.status:
                raise Conflict(
                    f"Image {before.id} status is {stored.status}, expected {before.status}."
                )
            d = diff(before, after)
            changes: dict[str, Any] = {f: getattr(after, f) for f in d.fields}
            if d.added_properties or d.removed_properties or d.changed_properties:
                props = dict(stored.extra_properties)
                for key in d.removed_properties:
                    props.pop(key, None)
                for key in d.added_properties | d.changed_properties:
                    props[key] = after.extra_properties[key]
                changes["extra_properties"] = props
            if d.added_tags or d.removed_tags:
                changes["tags"] = (stored.tags - d.removed_tags) | d.added_tags
            if d.locations_changed:
                changes["locations"] = after.locations
            changes["updated_at"] = self._clock.now()
            saved = attrs.evolve(stored, **changes)
            self._images[saved.id] = saved
            return saved

    def remove(self, image: Image, *, keep_data: bool = False) -> Image:
        with self._lock:
            stored = self._live(image.id)
            if stored.status != image.status:
                raise Conflict(
                    f"Image {image.id} status is {stored.status}, expected {image.status}."
                )
            now = self._clock.now()
            if keep_data:
                removed = attrs.evolve(stored, status="pending_delete", updated_at=now,
                                       locations=tuple(attrs.evolve(loc, status="pending_delete")
                                                       for loc in stored.locations))
                self.deleted_at[image.id] = now
                self.deleted_members[image.id] = self._members.pop(image.id, {})
            else:
                removed = attrs.evolve(stored, status="deleted", updated_at=now)
                self._members.pop(image.id, None)
            self._images[image.id] = removed
            self._tombstones.add(image.id)
            return removed

    def set_property_atomic(
        self, image_id: str, name: str, value: str | None, *, expected: str | None
    ) -> None:
        with self._lock:
            stored = self._live(image_id)
            current = stored.extra_properties.get(name)
            if current != expected:
                raise Conflict(f"Property {name} of image {image_id} is {current!r}, "
                               f"expected {expected!r}.")
            props = dict(stored.extra_properties)
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
            self._images[image_id] = attrs.evolve(stored, extra_properties=props)

    def location_users(self, url: str) -> builtins.list[str]:
        with self._lock:
            return sorted(i.id for i in self._images.values() if i.status != "deleted"
                          and any(loc.url == url and loc.status != "deleted"
                                  for loc in i.locations))

    def usage(self, owner: str) -> Usage:
        with self._lock:
            count = stored = staged = 0
            for image in self._images.values():
                if image.owner != owner or image.status in GONE:
                    continue
                size = image.size or 0
                importing = image.status in ("uploading", "importing")
                copying = image.status not in _NOT_COUNTED and bool(
                    image.extra_properties.get("os_glance_importing_to_stores")
                )
                if importing or copying:
                    staged += size
                if image.status in _NOT_COUNTED:
                    continue
                count += 1
                if size > 0:
                    live = sum(1 for loc in image.locations if loc.status != "deleted")
                    stored += size * live
            return Usage(image_count=count, stored_bytes=stored, staged_bytes=staged)

    def purge(self) -> int:
        """Forget deleted records (their ids stay tombstoned). Returns how many went."""
        with self._lock:
            gone = [k for k, v in self._images.items() if v.status == "deleted"]
            for key in gone:
                del self._images[key]
            return len(gone)

    # -- members --------------------------------------------------------------------------
    def list_members(self, image_id: str) -> builtins.list[Member]:
        with self._lock:
            self._live(image_id)
            members = self._members.get(image_id, {})
            return sorted(members.values(), key=lambda m: (m.created_at, m.member_id))

    def get_member(self, image_id: str, member_id: str) -> Member:
        with self._lock:
            self._live(image_id)
            member = self._members.get(image_id, {}).get(member_id)
            if member is None:
                raise NotFound(
                    f"{member_id} not found in the member list of the image {image_id}."
                )
            return member

    def add_member(self, member: Member) -> Member:
        with self._lock:
            self._live(member.image_id)
            members = self._members.setdefault(member.image_id, {})
            if member.member_id in members:
                raise Duplicate(
                    f"The target member {member.member_id} is already associated with "
                    f"image {member.image_id}."
                )
            members[member.member_id] = member
            return member

    def save_member(self, member: Member) -> Member:
        with self._lock:
            self._live(member.image_id)
            members = self._members.get(member.image_id, {})
            if member.member_id not in members:
                raise NotFound(f"{member.member_id} not found in the member list of the "
                               f"image {member.image_id}.")
            members[member.member_id] = member
            return member

    def remove_member(self, member: Member) -> None:
        with self._lock:
            members = self._members.get(member.image_id, {})
            if members.pop(member.member_id, None) is None:
                raise NotFound(f"{member.member_id} not found in the member list of the "
                               f"image {member.image_id}.")

    def member_status(self, image_id: str, member_id: str) -> str | None:
        with self._lock:
            member = self._members.get(image_id, {}).get(member_id)
            return member.status if member is not None else None


class MemoryStoreRegistry:
    """StoreRegistry port with the bytes held in memory; every backend is a dict.

    Data is committed only once the whole stream was read and hashed, so an interrupted or
    oversized upload leaves nothing behind. Existing data is never overwritten (``Duplicate``).
    """

    CHUNK_SIZE = 65536

    def __init__(
        self,
        backends: Iterable[str] = ("default",),
        *,
        default: str | None = None,
        hashing_algorithm: str = "sha512",
    ) -> None:
        names = tuple(backends)
        if not names:
            raise ValueError("at least one backend is required")
        self._default = default or names[0]
        if self._default not in names:
            raise ValueError(f"default backend {self._default!r} is not configured")
        hashlib.new(hashing_algorithm)  # fail loudly on an unknown algorithm
        self._algo = hashing_algorithm
        self._data: dict[str, dict[str, bytes]] = {name: {} for name in names}
        self._lock = threading.Lock()

    def backends(self) -> list[BackendInfo]:
        return [BackendInfo(id=n, default=n == self._default) for n in self._data]

    def default_backend(self) -> str:
        return self._default

    def write(
        self,
        image_id: str,
        chunks: Iterable[bytes],
        *,
        backend: str | None = None,
        size: int | None = None,
        max_size: int | None = None,
    ) -> StoredData:
        name = backend or self._default
        if name not in self._data:
            raise StoreUnavailable(f"Unknown store backend: {name}")
        md5 = hashlib.md5(usedforsecurity=False)
        multihash = hashlib.new(self._algo)
        parts: list[bytes] = []
        total = 0
        if max_size is not None:
            chunks = capped(
                chunks, max_size, f"Image exceeds the maximum size of {max_size} bytes."
            )
        for chunk in chunks:
            total += len(chunk)
            md5.update(chunk)
            multihash.update(chunk)
            parts.append(bytes(chunk))
        url = f"memory://{name}/{image_id}"
        with self._lock:
            if url in self._data[name]:  # like the plugin stores: never overwrite data
                raise Duplicate(f"Image data for {image_id} already exists in store {name}.")
            self._data[name][url] = b"".join(parts)
        return StoredData(
            url=url,
            backend=name,
            size=total,
            checksum=md5.hexdigest(),
            hash_algo=self._algo,
            hash_value=multihash.hexdigest(),
        )

    def _blob(self, url: str) -> bytes:
        name = self.backend_of(url)
        with self._lock:
            data = self._data[name].get(url)
        if data is None:
            raise NotFound(f"No data at {url}")
        return data

    def read(self, url: str, *, offset: int = 0, length: int | None = None) -> DataStream:
        data = self._blob(url)
        end = len(data) if length is None else min(len(data), offset + length)
        view = memoryview(data)[offset:end]
        return DataStream(chunks=self._chunks(view), length=len(view))

    def _chunks(self, view: memoryview) -> Iterator[bytes]:
        step = self.CHUNK_SIZE
        for start in range(0, len(view), step):
            yield bytes(view[start : start + step])

    def delete(self, url: str) -> None:
        name = self.backend_of(url)
        with self._lock:
            if self._data[name].pop(url, None) is None:
                raise NotFound(f"No data at {url}")

    def restricted_schemes(self) -> frozenset[str]:
        return frozenset()

    def backend_of(self, url: str) -> str:
        prefix = "memory://"
        name = url[len(prefix):].split("/", 1)[0] if url.startswith(prefix) else ""
        if name not in self._data:
            raise StoreUnavailable(f"Unknown store location: {url}")
        return name

    def remove_partial(self, image_id: str) -> int:
        """Nothing to remove: an unfinished write is only in its writer's memory."""
        return 0

    def object_count(self) -> int:
        """How many objects all backends hold (handy for tests and leak checks)."""
        with self._lock:
            return sum(len(d) for d in self._data.values())
