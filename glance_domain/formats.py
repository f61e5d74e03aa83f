"""The pure-Python default ``FormatInspector``: it recognises raw data only.

It never refuses data (it cannot tell a qcow2 from random bytes) and reports a virtual size only
for ``bare``/``raw`` images, where Glance's virtual size is the number of bytes. Servers wire a
full inspector (``glance_domain_adapters.formats.OsloFormatInspector``) that recognises qcow2,
vmdk, vhd(x), vdi, iso... and refuses mismatching data as Glance 33 does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class CountedData:
    """Passes chunks through, counting bytes; the verdict is the byte count for raw images."""

    __slots__ = ("_chunks", "_raw", "total")

    def __init__(self, chunks: Iterable[bytes], raw: bool) -> None:
        self._chunks = chunks
        self._raw = raw
        self.total = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.total += len(chunk)
            yield chunk

    def verdict(self) -> int | None:
        return self.total if self._raw and self.total else None


class RawFormatInspector:
    """A ``FormatInspector`` knowing only raw data (Glance skips non-``bare`` containers)."""

    def inspect(
        self, chunks: Iterable[bytes], *, disk_format: str | None, container_format: str | None
    ) -> CountedData:
        return CountedData(chunks, disk_format == "raw" and container_format == "bare")
