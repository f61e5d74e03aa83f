"""``memory`` driver: image data in process memory, for embedding and tests.

Locations are ``memory://<backend>/<image_id>``. Data is lost when the process ends. Each backend
instance has its own dictionary; the driver holds whole images in memory by nature.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import Duplicate, InvalidLocation, NotFound
from glance_store_plugins.hashing import HashingChunks

#: Chunk size used when reading.
READ_CHUNK = 1 << 20


class MemoryStore(Store):
    """Keeps image data in a dictionary (no options besides ``store_description``)."""

    driver_name = "memory"
    schemes = ("memory",)
    capabilities = Capability.READ_WRITE

    def _configure(self, conf: Mapping[str, Any]) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def owns(self, location: str) -> bool:
        try:
            parts = loc.split(location)
        except InvalidLocation:
            return False
        return parts.scheme == "memory" and parts.netloc == self.backend

    def _key(self, location: str) -> str:
        key = loc.split(location).path.lstrip("/")
        if key not in self._data:
            raise NotFound(f"no data at {location}")
        return key

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        if image_id in self._data:
            raise Duplicate(f"data for image {image_id} already exists in {self.backend!r}")
        data = b"".join(chunks)
        with self._lock:
            if image_id in self._data:
                raise Duplicate(f"data for image {image_id} already exists in {self.backend!r}")
            self._data[image_id] = data
        return f"memory://{self.backend}/{image_id}"

    def _read(self, location: str, offset: int, length: int) -> Iterator[bytes]:
        return _slices(self._data[self._key(location)], offset, offset + length)

    def _delete(self, location: str) -> None:
        with self._lock:
            self._data.pop(self._key(location))

    def _size(self, location: str) -> int:
        return len(self._data[self._key(location)])

    def _remove_partial(self, image_id: str) -> int:
        """Nothing to remove: an unfinished write exists only in its writer's memory (a list
        of chunks joined at the end) and dies with it."""
        return 0

    def object_count(self) -> int:
        """How many images this backend holds (used by the contract kit's leftover check)."""
        return len(self._data)


def _slices(data: bytes, start: int, end: int) -> Iterator[bytes]:
    view = memoryview(data)
    for pos in range(start, end, READ_CHUNK):
        yield bytes(view[pos:min(pos + READ_CHUNK, end)])
