"""An example store driver: each image is one file in a directory.

Locations look like ``example://<backend>/<image_id>``. Everything generic (capability checks,
hashing, size limits, error wrapping) is done by :class:`glance_store_plugins.Store`; this driver
only moves bytes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from glance_store_plugins import (
    Capability,
    ConfigError,
    Duplicate,
    HashingChunks,
    NotFound,
    Option,
    Store,
)

__all__ = ["DirectoryStore"]


class DirectoryStore(Store):
    """Keeps each image in ``<example_store_root>/<image_id>``."""

    driver_name = "example"
    schemes = ("example",)
    capabilities = Capability.READ_WRITE
    options = {
        "example_store_root": Option(
            name="example_store_root", required=True, help="Directory holding the images."
        ),
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        self.root = conf["example_store_root"]
        if not os.path.isabs(self.root):
            raise ConfigError(f"example_store_root must be absolute, got {self.root!r}")
        os.makedirs(self.root, exist_ok=True)

    def owns(self, location: str) -> bool:
        parts = urlsplit(location)
        return parts.scheme == "example" and parts.netloc == self.backend

    def _path(self, location: str) -> str:
        name = urlsplit(location).path.lstrip("/")
        if not name or "/" in name or name.startswith("."):
            raise NotFound(f"no data at {location}")
        return os.path.join(self.root, name)

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        final = os.path.join(self.root, image_id)
        if os.path.exists(final):
            raise Duplicate(f"image {image_id} already exists")
        temp = os.path.join(self.root, f".{uuid.uuid4().hex}.tmp")
        try:
            with open(temp, "xb") as out:
                for chunk in chunks:  # hashing and size limit happen as we iterate
                    out.write(chunk)
            os.link(temp, final)  # fails if the name was taken meanwhile
        except FileExistsError:
            raise Duplicate(f"image {image_id} already exists") from None
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        return f"example://{self.backend}/{image_id}"

    def _read(self, location: str, offset: int, length: int) -> BinaryIO:
        try:
            file = open(self._path(location), "rb")  # noqa: SIM115 - returned open
        except FileNotFoundError:
            raise NotFound(f"no data at {location}") from None
        file.seek(offset)
        return file  # the base class streams it and closes it

    def _size(self, location: str) -> int:
        try:
            return os.path.getsize(self._path(location))
        except FileNotFoundError:
            raise NotFound(f"no data at {location}") from None

    def _delete(self, location: str) -> None:
        try:
            os.unlink(self._path(location))
        except FileNotFoundError:
            raise NotFound(f"no data at {location}") from None

    def leftovers(self) -> list[str]:
        """Temporary files of unfinished writes, for the contract kit."""
        return [name for name in os.listdir(self.root) if name.endswith(".tmp")]

    def backend_objects(self) -> set[str]:
        """Every file in the directory, as the file system lists it, for the contract kit."""
        return set(os.listdir(self.root))
