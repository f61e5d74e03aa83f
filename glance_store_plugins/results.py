"""Records returned by stores: what a write produced, and a stream of bytes being read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

import attrs


@attrs.frozen(kw_only=True)
class WriteResult:
    """What a backend holds after a successful write.

    ``url`` is the location (never containing credentials), ``checksum`` the md5 hex digest,
    ``hash_algo``/``hash_value`` the multihash (Glance's ``os_hash_algo``/``os_hash_value``),
    ``metadata`` driver-specific location metadata (always includes ``store``: the backend name).
    """

    url: str
    backend: str
    size: int
    checksum: str
    hash_algo: str
    hash_value: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)


class ClosingChunks:
    """Chunks from ``source`` whose ``close()`` always runs ``release`` (once).

    A generator closed before its first ``next()`` never runs its ``finally``: a stream
    abandoned before the first chunk (client gone, early failure) would keep its HTTP
    connection or open file until garbage collection. This wrapper releases it explicitly.
    """

    __slots__ = ("_release", "_source")

    def __init__(self, source: Iterator[bytes], release: Callable[[], None]) -> None:
        self._source = source
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._source)

    def close(self) -> None:
        release, self._release = self._release, None
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        finally:
            if release is not None:
                release()


def closer(source: object) -> Callable[[], None]:
    """``source.close`` if it has one, else a no-op."""
    close = getattr(source, "close", None)
    return close if callable(close) else _nothing


def _nothing() -> None:
    pass


class ReadStream:
    """Bytes being read: iterate for chunks; ``close()`` when done (or use ``with``).

    ``length`` is the exact number of bytes the iteration yields. ``file`` is an open local file
    positioned at ``offset`` when the backend supports ``FILE_READ`` and chose to read this
    range as a file (a WSGI server may send it with ``wsgi.file_wrapper``, limited to
    ``length`` bytes); otherwise None. Whoever uses
    ``file`` directly must still call ``close()``.
    """

    def __init__(
        self, chunks: Iterator[bytes], *, length: int, offset: int = 0,
        file: BinaryIO | None = None,
    ) -> None:
        self.chunks = chunks
        self.length = length
        self.offset = offset
        self.file = file

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def read_all(self) -> bytes:
        """Join every chunk (convenience for small data and tests) and close."""
        try:
            return b"".join(self.chunks)
        finally:
            self.close()

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        if self.file is not None:
            self.file.close()

    def __enter__(self) -> ReadStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
