"""``image_decompression``: replaces zip or gzip staged data with what it contains.

As Glance does, the format is told by the first bytes (zip ``PK\\x03\\x04``, LHA ``-lh`` at
offset 2, gzip ``\\x1f\\x8b\\x08``); anything else is left alone, and so is every image whose
``container_format`` is ``compressed`` (its data is meant to stay compressed). A zip archive
must hold exactly one file (Glance: "Archive contains more than one file."); a gzip stream of
several members decompresses to their concatenation. The ``disk_format`` is unchanged; the
image's ``size`` becomes the decompressed size.

Decompression bombs: the output is written through ``ImportJob.replace_staged``, which stops
at ``image_size_cap`` or the owner's remaining ``user_storage_quota`` (whichever is smaller)
while the bytes are produced, so nothing larger ever lands on disk; a zip member announcing
more than that is refused before any byte is decompressed.

LHA: Glance decompresses LHA archives only when the optional ``lhafile`` package is installed
(it is not one of Glance's requirements). The only Python LHA library, ``lhafile``, is a small
C extension with a single maintainer and rare releases, so it is not used: LHA data fails the
import here, exactly as on a Glance without ``lhafile`` ("No lhafile available.").
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator
from typing import Protocol

from glance_domain.errors import SizeLimitExceeded
from glance_domain.importing.plugins import ImportJob

LOG = logging.getLogger(__name__)

#: (name, offset, magic bytes), checked in this order (Glance's).
MAGIC_NUMBERS: tuple[tuple[str, int, bytes], ...] = (
    ("zip", 0, b"PK\x03\x04"),
    ("lha", 2, b"-lh"),
    ("gzip", 0, b"\x1f\x8b\x08"),
)
HEADER_LENGTH = max(offset + len(magic) for _, offset, magic in MAGIC_NUMBERS)
CHUNK_SIZE = 1 << 20


def detect(head: bytes) -> str | None:
    """``zip``, ``lha``, ``gzip`` or None for the first bytes of some data."""
    for name, offset, magic in MAGIC_NUMBERS:
        if head.startswith(magic, offset):
            return name
    return None


@contextlib.contextmanager
def local_file(job: ImportJob) -> Iterator[str]:
    """A local path holding the staged data: the staged file itself when the staging area
    keeps files, else a temporary copy (removed afterwards)."""
    path = job.staged_path()
    if path is not None:
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="glance-domain-import-")
    try:
        stream = job.read_staged()
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in stream:
                    out.write(chunk)
        finally:
            stream.close()
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _read(file: _Readable) -> Iterator[bytes]:
    while chunk := file.read(CHUNK_SIZE):
        yield chunk


class ImageDecompression:
    """Decompresses zip (one member) and gzip staged data in place."""

    def run(self, job: ImportJob) -> None:
        if job.image.container_format == "compressed":
            LOG.debug("image %s: container_format compressed, data left as it is", job.image_id)
            return
        with local_file(job) as path:
            with open(path, "rb") as file:
                kind = detect(file.read(HEADER_LENGTH))
            if kind is None:
                return
            LOG.info("image %s: decompressing %s data", job.image_id, kind)
            if kind == "zip":
                size = self._zip(job, path)
            elif kind == "gzip":
                with gzip.open(path, "rb") as data:
                    size = job.replace_staged(_read(data))
            else:
                raise RuntimeError("No lhafile available: LHA archives cannot be decompressed.")
        LOG.info("image %s: decompressed to %d bytes", job.image_id, size)

    @staticmethod
    def _zip(job: ImportJob, path: str) -> int:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) != 1:
                raise RuntimeError("Archive contains more than one file.")
            (member,) = members
            if member.is_dir():
                raise RuntimeError("Archive contains no file.")
            limit, message = job.size_limit()
            if member.file_size > limit:
                raise SizeLimitExceeded(message)
            with archive.open(member) as data:
                return job.replace_staged(_read(data))
