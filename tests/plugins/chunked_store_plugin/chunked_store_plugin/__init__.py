"""A test-only store driver: each image is a directory of chunk files plus an index entry.

Layout under ``chunked_store_root``: ``blobs/<write id>/<n>`` hold the data of one write in
chunks of ``chunked_store_chunk_size`` bytes; ``index/<image_id>`` names the blob directory of a
complete image. An image exists once its index entry exists: the entry is created last, with
``os.link`` (atomic, fails when the id is taken), so a partial write is never visible and two
writes to one id cannot both succeed. Errors of the file system are reported as the backend
being unreachable, with the endpoint (which embeds ``chunked_store_token``) in the message:
the base class must scrub it.

Locations look like ``chunked://<backend>/<image_id>``. The driver depends on
``glance_store_plugins`` alone.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from glance_store_plugins import Capability, Duplicate, HashingChunks, NotFound, Option, Store

__all__ = ["ChunkedStore"]


class ChunkedStore(Store):
    """Images as chunk files plus an index entry (see the module documentation)."""

    driver_name = "chunked"
    schemes = ("chunked",)
    capabilities = Capability.READ_WRITE
    options = {
        opt.name: opt
        for opt in (
            Option(name="chunked_store_root", required=True, help="Directory of the store."),
            Option(name="chunked_store_chunk_size", type=int, default=65536,
                   help="Size in bytes of each chunk file."),
            Option(name="chunked_store_token", secret=True, default="",
                   help="Credential of the (pretend) backend; never shown."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        self.root = str(conf["chunked_store_root"])
        self.chunk_size = int(conf["chunked_store_chunk_size"])
        self.endpoint = f"chunked://reader:{conf['chunked_store_token']}@localhost{self.root}"
        for sub in ("blobs", "index"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)

    # -- helpers --------------------------------------------------------------------------------
    def _unreachable(self, exc: OSError) -> ConnectionError:
        return ConnectionError(f"backend {self.endpoint} unreachable: {exc.strerror}")

    def _check_up(self) -> None:
        if not os.path.isdir(os.path.join(self.root, "index")):
            raise self._unreachable(FileNotFoundError(2, "store root is gone"))

    def owns(self, location: str) -> bool:
        parts = urlsplit(location)
        return parts.scheme == "chunked" and parts.netloc == self.backend

    def _image_id(self, location: str) -> str:
        name = urlsplit(location).path.lstrip("/")
        if not name or "/" in name or name.startswith("."):
            raise NotFound(f"no data at {location}")
        return name

    def _blob_dir(self, location: str) -> str:
        self._check_up()
        try:
            with open(os.path.join(self.root, "index", self._image_id(location))) as entry:
                return os.path.join(self.root, "blobs", entry.read().strip())
        except FileNotFoundError:
            raise NotFound(f"no data at {location}") from None
        except OSError as exc:
            raise self._unreachable(exc) from None

    def _parts(self, blob: str) -> list[str]:
        return sorted(os.listdir(blob), key=int)

    # -- the four operations --------------------------------------------------------------------
    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        self._check_up()
        index = os.path.join(self.root, "index", image_id)
        if os.path.exists(index):
            raise Duplicate(f"image {image_id} already exists")
        write_id = uuid.uuid4().hex
        blob = os.path.join(self.root, "blobs", write_id)
        try:
            os.mkdir(blob)
            self._write_parts(blob, chunks)
            temp = os.path.join(self.root, "index", f".{write_id}.tmp")
            with open(temp, "x") as entry:
                entry.write(write_id)
            try:
                os.link(temp, index)  # atomic: fails when the id was taken meanwhile
            finally:
                os.unlink(temp)
        except FileExistsError:
            shutil.rmtree(blob, ignore_errors=True)
            raise Duplicate(f"image {image_id} already exists") from None
        except BaseException:
            shutil.rmtree(blob, ignore_errors=True)
            raise
        return f"chunked://{self.backend}/{image_id}"

    def _write_parts(self, blob: str, chunks: HashingChunks) -> None:
        buffer = bytearray()
        count = 0
        for chunk in chunks:
            buffer += chunk
            while len(buffer) >= self.chunk_size:
                self._put(blob, count, bytes(buffer[: self.chunk_size]))
                del buffer[: self.chunk_size]
                count += 1
        if buffer:
            self._put(blob, count, bytes(buffer))

    def _put(self, blob: str, number: int, data: bytes) -> None:
        with open(os.path.join(blob, str(number)), "xb") as part:
            part.write(data)

    def _read(self, location: str, offset: int, length: int) -> Iterator[bytes]:
        blob = self._blob_dir(location)
        return self._read_parts(blob, offset, length)

    def _read_parts(self, blob: str, offset: int, length: int) -> Iterator[bytes]:
        first, skip = divmod(offset, self.chunk_size)
        left = length
        for name in self._parts(blob)[first:]:
            if left <= 0:
                return
            with open(os.path.join(blob, name), "rb") as part:
                part.seek(skip)
                data = part.read(left)
            skip = 0
            left -= len(data)
            yield data

    def _size(self, location: str) -> int:
        blob = self._blob_dir(location)
        return sum(os.path.getsize(os.path.join(blob, name)) for name in self._parts(blob))

    def _delete(self, location: str) -> None:
        blob = self._blob_dir(location)
        os.unlink(os.path.join(self.root, "index", self._image_id(location)))
        shutil.rmtree(blob)

    # -- for the contract kit -------------------------------------------------------------------
    def leftovers(self) -> list[str]:
        """Blob directories no index entry names (data of unfinished or failed writes)."""
        index = os.path.join(self.root, "index")
        used = set()
        for name in os.listdir(index):
            if not name.startswith("."):
                with open(os.path.join(index, name)) as entry:
                    used.add(entry.read().strip())
        return sorted(set(os.listdir(os.path.join(self.root, "blobs"))) - used)

    def backend_objects(self) -> set[str]:
        """Every file the store holds, relative to its root (what the backend itself shows)."""
        found = set()
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                found.add(os.path.relpath(os.path.join(folder, name), self.root))
        return found
