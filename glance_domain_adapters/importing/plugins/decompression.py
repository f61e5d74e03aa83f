"""``image_decompression``: replaces compressed staged data with what it contains.

As Glance does, the format is told by the first bytes (zip ``PK\\x03\\x04``, LHA ``-lh`` at
offset 2, gzip ``\\x1f\\x8b\\x08``); beyond Glance, bzip2 (``BZh`` and a block size digit), xz
(``\\xfd7zXZ\\x00``) and zstd (``\\x28\\xb5\\x2f\\xfd``) are decompressed too. Anything else is
left alone, and so is every image whose ``container_format`` is ``compressed`` (its data is
meant to stay compressed). A zip archive must hold exactly one file (Glance: "Archive contains
more than one file."); a gzip, bzip2, xz or zstd stream of several members (frames)
decompresses to their concatenation, and one that ends before its end-of-stream marker fails
the import. The ``disk_format`` is unchanged; the image's ``size`` becomes the decompressed size.

Decompression bombs: the output is written through ``ImportJob.replace_staged``, which stops
at ``image_size_cap`` or the owner's remaining ``user_storage_quota`` (whichever is smaller)
while the bytes are produced, so nothing larger ever lands on disk; a zip member announcing
more than that is refused before any byte is decompressed. Memory is bounded too: gzip, bzip2
and xz are read through the standard library's bounded readers, and zstd is fed to its
decompressor ``ZSTD_FEED`` bytes at a time (zstd expands at most ~32,768 times, so one call
yields at most ~32 MiB).

LHA: Glance decompresses LHA archives only when the optional ``lhafile`` package is installed
(it is not one of Glance's requirements). The only Python LHA library, ``lhafile``, is a small
C extension with a single maintainer and rare releases, so it is not used: LHA data fails the
import here, exactly as on a Glance without ``lhafile`` ("No lhafile available.").
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import logging
import lzma
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from typing import Protocol

import zstandard

from glance_domain.errors import SizeLimitExceeded
from glance_domain.importing.plugins import ImportJob

LOG = logging.getLogger(__name__)

#: (name, offset, magic bytes), checked in this order (Glance's three first).
MAGIC_NUMBERS: tuple[tuple[str, int, bytes], ...] = (
    ("zip", 0, b"PK\x03\x04"),
    ("lha", 2, b"-lh"),
    ("gzip", 0, b"\x1f\x8b\x08"),
    ("bzip2", 0, b"BZh"),
    ("xz", 0, b"\xfd7zXZ\x00"),
    ("zstd", 0, b"\x28\xb5\x2f\xfd"),
)
HEADER_LENGTH = max(offset + len(magic) for _, offset, magic in MAGIC_NUMBERS) + 1
CHUNK_SIZE = 1 << 20
#: Compressed bytes handed to the zstd decompressor per call (bounds the output of one call).
ZSTD_FEED = 1 << 10
#: The message of a stream that stops before its end (the standard library's, for all formats).
TRUNCATED = "Compressed file ended before the end-of-stream marker was reached"


def detect(head: bytes) -> str | None:
    """``zip``, ``lha``, ``gzip``, ``bzip2``, ``xz``, ``zstd`` or None for the first bytes of
    some data (a bzip2 header must go on with its block size digit, 1-9)."""
    for name, offset, magic in MAGIC_NUMBERS:
        if head.startswith(magic, offset):
            if name == "bzip2" and head[3:4] not in tuple(b"%d" % n for n in range(1, 10)):
                continue
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

    def close(self) -> None: ...


def _read(file: _Readable) -> Iterator[bytes]:
    while chunk := file.read(CHUNK_SIZE):
        yield chunk


def _zstd(path: str) -> Iterator[bytes]:
    """The concatenated content of the zstd frames in ``path``; fails on a truncated frame
    (zstandard's stream reader would end quietly)."""
    decompressor = zstandard.ZstdDecompressor()
    frame = decompressor.decompressobj()
    unfinished = False  # a frame has begun and not yet ended
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            for start in range(0, len(chunk), ZSTD_FEED):
                data = chunk[start:start + ZSTD_FEED]
                while data:
                    if out := frame.decompress(data):
                        yield out
                    unfinished, data = not frame.eof, b""
                    if frame.eof:  # the rest of this piece starts the next frame
                        data = frame.unused_data
                        frame = decompressor.decompressobj()
    if unfinished:
        raise EOFError(TRUNCATED)


#: Openers of the single-file formats: each gives a reader of the decompressed bytes.
_STREAM_OPENERS: dict[str, Callable[[str], _Readable]] = {
    "gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile,
}


class ImageDecompression:
    """Decompresses zip (one member), gzip, bzip2, xz and zstd staged data in place."""

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
            elif kind in _STREAM_OPENERS:
                data = _STREAM_OPENERS[kind](path)
                try:
                    size = job.replace_staged(_read(data))
                finally:
                    data.close()
            elif kind == "zstd":
                size = job.replace_staged(_zstd(path))
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
