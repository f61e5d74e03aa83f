"""``StagingArea`` on a local directory (``<data_dir>/staging`` by default).

Each image's data is written to a temporary file and renamed into place once complete, so a
reader never sees a partial file and a failed write leaves nothing behind. The directory may be
shared by the worker processes of one host.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from glance_domain.errors import InvalidInput, NotFound, SizeLimitExceeded
from glance_domain.ports import DataStream
from glance_store_plugins.results import ClosingChunks

CHUNK_SIZE = 1 << 20
#: Prefixes of the temporary files written here (staged data on its way in; an import
#: plugin's output such as ``qemu-img convert``'s).
TEMP_PREFIXES = (".staging-", ".convert-")
#: A temporary file untouched this long (seconds) belongs to a write that died with its
#: process (a live write changes its file all the time): removed when a process starts.
ABANDONED_AFTER = 3600


def _checked_id(image_id: str) -> str:
    try:
        return str(uuid.UUID(image_id))
    except ValueError:
        raise InvalidInput(f"Invalid image id {image_id!r}.") from None


class FileStagingArea:
    """Staged data as ``<directory>/<image_id>`` files."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.sweep()

    def sweep(self, older_than: float = ABANDONED_AFTER) -> list[str]:
        """Remove temporary files left by writes whose process died (killed mid-upload or
        mid-conversion); the names removed. Staged images themselves are never touched."""
        removed = []
        limit = time.time() - older_than
        with contextlib.suppress(OSError), os.scandir(self.directory) as entries:
            for entry in entries:
                if not entry.name.startswith(TEMP_PREFIXES):
                    continue
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and (
                            entry.stat(follow_symlinks=False).st_mtime < limit):
                        os.unlink(entry.path)
                        removed.append(entry.name)
        return removed

    def path(self, image_id: str) -> str:
        return os.path.join(self.directory, _checked_id(image_id))

    def local_path(self, image_id: str) -> str:
        """The staged file of ``image_id`` (``glance_domain.importing.plugins.LocalStaging``:
        import plugins that run tools such as ``qemu-img`` read it in place)."""
        return self.path(image_id)

    def write(
        self, image_id: str, chunks: Iterable[bytes], *, max_size: int | None = None
    ) -> int:
        target = self.path(image_id)
        # the image id in the name lets remove_partial find a dead write's file
        prefix = f".staging-{_checked_id(image_id)}-"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=prefix)
        total = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    total += len(chunk)
                    if max_size is not None and total > max_size:
                        raise SizeLimitExceeded(
                            f"Image exceeds the maximum size of {max_size} bytes.")
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return total

    def read(self, image_id: str) -> DataStream:
        try:
            file = open(self.path(image_id), "rb")  # noqa: SIM115 - closed by the stream
        except FileNotFoundError:
            raise NotFound(f"No data staged for image {image_id}.") from None
        size = os.fstat(file.fileno()).st_size
        return DataStream(chunks=ClosingChunks(_chunks(file), file.close), length=size,
                          file=None)

    def delete(self, image_id: str) -> None:
        try:
            os.unlink(self.path(image_id))
        except FileNotFoundError:
            raise NotFound(f"No data staged for image {image_id}.") from None

    def exists(self, image_id: str) -> bool:
        return os.path.isfile(self.path(image_id))

    def remove_partial(self, image_id: str) -> int:
        """Unlink the temporary files of unfinished writes of ``image_id`` (a ``/stage`` whose
        process died); the staged file itself is kept."""
        prefix = f".staging-{_checked_id(image_id)}-"
        removed = 0
        with os.scandir(self.directory) as entries:
            names = [e.name for e in entries if e.name.startswith(prefix)]
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.directory, name))
                removed += 1
        return removed


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk
