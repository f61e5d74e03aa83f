"""The domain's ``FormatInspector`` port over ``oslo_utils.imageutils.format_inspector``.

Glance 33 looks at the bytes of every upload and import of a ``bare`` image while they stream to
the store: it computes ``virtual_size`` (raw: the byte count; qcow2, vmdk, vhd, vhdx, vdi, qed,
iso, gpt, luks: from their headers) and, with ``[image_format] require_image_format_match``
(default on), refuses data whose detected format is not the image's ``disk_format``
(``Image disk_format qcow2 does not match stream data raw``) or that fails the format's safety
checks (a qcow2 backing file, a vmdk extent outside the file...).

Streaming without slowing uploads down: each oslo inspector only needs a few header regions
(at most ~256 KiB for a non-matching format). An inspector stops being fed as soon as it has
decided it does not match; the (normally single) matching one keeps being fed, as some formats
need the stream length (gpt, luks) or its last bytes (streamOptimized vmdk). The byte count is
kept here, so raw data costs a counter per chunk after the first few hundred KiB.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Iterator, Sequence

from oslo_utils.imageutils import format_inspector as fi

from glance_domain.errors import InvalidImageData

LOG = logging.getLogger(__name__)

#: Formats whose virtual size is derived from the whole stream's length.
_LENGTH_DERIVED = frozenset({"gpt", "luks"})


class OsloInspectedData:
    """Chunks on their way to a store, fed to every non-raw oslo inspector until it decides."""

    __slots__ = (
        "_active", "_chunks", "_disk_format", "_inspectors", "_nonfatal", "_require", "total"
    )

    def __init__(
        self, chunks: Iterable[bytes], disk_format: str | None, nonfatal: Sequence[str],
        require_match: bool = True,
    ) -> None:
        self._chunks = chunks
        self._require = require_match
        self._disk_format = disk_format
        self._nonfatal = frozenset(nonfatal)
        self._inspectors: list[fi.FileInspector] = [
            cls() for name, cls in fi.ALL_FORMATS.items() if name != "raw"
        ]
        self._active: list[fi.FileInspector] = list(self._inspectors)
        self.total = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.total += len(chunk)
            if self._active:
                self._feed(chunk)
            yield chunk

    def _feed(self, chunk: bytes) -> None:
        still: list[fi.FileInspector] = []
        for inspector in self._active:
            try:
                inspector.eat_chunk(chunk)
            except Exception as exc:  # a parser failing only rules its own format out
                LOG.debug("format inspector %s gave up: %s", inspector.NAME, exc)
                continue
            # complete and not matching: decided, stop feeding it
            needs_more = not inspector.complete or (
                inspector.NAME in _LENGTH_DERIVED and inspector.format_match
            )
            if needs_more:
                still.append(inspector)
        self._active = still

    def verdict(self) -> int | None:
        """Glance's decision after the upload (see module docstring)."""
        for inspector in self._inspectors:
            inspector.finish()
        try:
            return self._decide()
        except InvalidImageData:
            raise
        except fi.ImageFormatError as exc:
            if self._require:
                raise InvalidImageData(str(exc)) from None
            LOG.warning("image data does not match disk_format %s: %s", self._disk_format, exc)
        except Exception as exc:
            LOG.error("unable to determine the stream format: %s", exc)
            if self._require:
                raise InvalidImageData("Image format inspection failed") from None
        return None

    def _decide(self) -> int | None:
        matches = {str(i): i for i in self._inspectors if i.format_match}
        inspector: fi.FileInspector | None
        if not matches:
            detected, inspector = "raw", None
        elif matches.keys() == {"iso", "gpt"}:  # a bootable ISO with a GPT loader in front
            detected, inspector = "iso", matches["iso"]
        elif len(matches) > 1:
            raise fi.ImageFormatError(f"Multiple formats detected: {','.join(matches)}")
        else:
            ((detected, inspector),) = matches.items()
        disk_format = self._disk_format
        if detected == disk_format:
            virtual_size = self.total if inspector is None else inspector.virtual_size
        elif detected == "raw" and disk_format not in fi.ALL_FORMATS:
            virtual_size = 0  # ami, aki, ploop...: not inspectable, accepted as they are
        elif disk_format == "raw":
            virtual_size = self.total  # a disk image stored as raw bytes
        else:
            raise fi.ImageFormatError(
                f"Image disk_format {disk_format} does not match stream data {detected}"
            )
        if inspector is not None:
            self._safety_check(inspector, detected)
            if detected == "qcow2" and _qcow2_tables_missing(inspector, self.total):
                LOG.warning("qcow2 data ends before the tables its header names (%d bytes)",
                            self.total)
                raise InvalidImageData(
                    "Image failed safety checks: the qcow2 data holds a header but not the "
                    "tables it names (truncated or header-only data).")
        return virtual_size or None

    def _safety_check(self, inspector: fi.FileInspector, detected: str) -> None:
        try:
            inspector.safety_check()
        except fi.SafetyCheckFailed as exc:
            fatal = set(exc.failures) - self._nonfatal
            if self._disk_format in ("aki", "ari"):  # kernels may carry a bogus MBR
                fatal.discard("mbr")
            if inspector.NAME == "gpt" and not fatal:
                LOG.warning("non-fatal safety check failures: %s", exc)
                return
            LOG.warning("image data (%s) failed safety checks: %s", detected, exc)
            raise InvalidImageData("Image failed safety checks") from None


def _qcow2_tables_missing(inspector: fi.FileInspector, total: int) -> bool:
    """Whether qcow2 data of ``total`` bytes ends before the refcount table or the L1 table
    its header points at: such data is only a header (or truncated), never a usable disk. Every
    qcow2 file qemu writes holds both tables (a new empty 1 GiB image is ~200 KiB)."""
    data = inspector.region("header").data
    if len(data) < 60:
        return True
    (l1_size,) = struct.unpack(">I", data[36:40])
    (l1_offset, refcount_offset) = struct.unpack(">QQ", data[40:56])
    if refcount_offset == 0 or refcount_offset + 8 > total:
        return True
    return bool(l1_size) and l1_offset + 8 > total


class OsloFormatInspector:
    """``FormatInspector`` with Glance 33's rules. ``require_match=False`` (Glance's
    ``require_image_format_match = False``) only logs a format mismatch; safety-check failures
    are refused either way, as in Glance."""

    def __init__(
        self, *, require_match: bool = True, gpt_safety_checks_nonfatal: Sequence[str] = ()
    ) -> None:
        self.require_match = require_match
        self.nonfatal = tuple(gpt_safety_checks_nonfatal)

    def inspect(
        self, chunks: Iterable[bytes], *, disk_format: str | None, container_format: str | None
    ) -> OsloInspectedData | _Uninspected:
        if container_format != "bare":  # Glance only inspects bare images
            return _Uninspected(chunks)
        return OsloInspectedData(chunks, disk_format, self.nonfatal, self.require_match)


class _Uninspected:
    """Chunks passed through untouched; no virtual size."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def verdict(self) -> int | None:
        return None
