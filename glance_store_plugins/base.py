"""The driver API: :class:`Store`, the base class every store driver subclasses.

Public methods (``write``, ``read``, ``delete``, ``size``) are template methods: they check
capabilities and arguments, hash and size-limit the data in one pass, turn foreign exceptions
into :class:`BackendError` with credentials scrubbed, and return frozen records. A driver only
implements four raw operations:

``_write(image_id, chunks)``
    Store every chunk of ``chunks`` (a :class:`HashingChunks`; ``chunks.size_hint`` is the
    announced size or None) atomically under the image id and return its location URL, or
    ``(url, metadata)``. Raise :class:`Duplicate` if data for the id exists. If anything raises
    while iterating (size limit, the client going away), leave nothing behind and re-raise.
``_read(location, offset, length)``
    Return an iterable of ``bytes`` chunks holding exactly ``length`` bytes from ``offset``, or an
    open binary file object positioned at ``offset`` (the base class then streams it in
    ``read_chunk_size`` chunks and exposes it as ``ReadStream.file``).
``_delete(location)`` and ``_size(location)``
    Raise :class:`NotFound` when nothing is there.
``_remove_partial(image_id)`` (optional; the default does nothing)
    Remove what an *unfinished* write of ``image_id`` left behind when its process died in the
    middle of ``_write`` (killed, host crash): temporary files, unfinished multipart uploads...
    Return how many such leftovers were removed. Never touch finished data (it is removed with
    ``_delete`` through its location). The service calls it once it knows the writer is gone
    (its upload lease expired, see docs/security.md) and when a ``saving`` image is deleted; a
    driver whose ``_write`` leaves nothing behind on a crash (a write that is atomic on the
    backend, or kept in the process's memory) needs no override.

Drivers declare ``driver_name``, ``schemes``, ``restricted_schemes`` (URLs a caller may never
give as a location, such as ``file``), ``capabilities`` and typed ``options``; override
``_configure(conf)`` to validate options and set up clients, and ``owns(location)`` when a URL
scheme alone does not tell whether this backend holds a location.
"""

from __future__ import annotations

import abc
import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, ClassVar, NoReturn

from glance_store_plugins import location as loc
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    CapabilityError,
    InvalidInput,
    InvalidLocation,
    InvalidRange,
    SizeLimitExceeded,
    StoreError,
)
from glance_store_plugins.hashing import HashingChunks, check_algorithm
from glance_store_plugins.options import Option, parse_options
from glance_store_plugins.results import ClosingChunks, ReadStream, WriteResult, closer

LOG = logging.getLogger(__name__)

#: Options every backend accepts, whatever its driver.
COMMON_OPTIONS: Mapping[str, Option] = {
    "store_description": Option(
        name="store_description", default="",
        help="Human-readable description shown by /v2/info/stores.",
    ),
}

RawRead = Iterable[bytes] | BinaryIO


class Store(abc.ABC):
    """Base class of store drivers; one instance serves one named backend.

    >>> from glance_store_plugins.drivers.memory import MemoryStore
    >>> store = MemoryStore(backend="scratch")
    >>> result = store.write("img-1", [b"hello ", b"world"])
    >>> (result.url, result.size, result.checksum)
    ('memory://scratch/img-1', 11, '5eb63bbbe01eeed093cb22bb8f5acdc3')
    >>> store.read(result.url, offset=6).read_all()
    b'world'
    """

    driver_name: ClassVar[str] = ""
    schemes: ClassVar[tuple[str, ...]] = ()
    #: Schemes (among ``schemes`` or not) whose URLs name resources of the host or of the
    #: service's own configuration (a local path, credentials from a configuration file). The
    #: service never accepts such a URL from a caller as an image location, whoever asks; the
    #: driver still reads, writes and deletes its own locations of that scheme.
    restricted_schemes: ClassVar[tuple[str, ...]] = ()
    capabilities: Capability = Capability.READ_WRITE
    options: ClassVar[Mapping[str, Option]] = {}
    #: Chunk size used when streaming a file object returned by ``_read``.
    read_chunk_size: int = 1 << 20

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        backend: str = "default",
        hashing_algorithm: str = "sha512",
    ) -> None:
        self.backend = backend
        self.hashing_algorithm = check_algorithm(hashing_algorithm)
        specs = {**COMMON_OPTIONS, **type(self).options}
        where = f"store backend {backend!r} (driver {self.driver_name or type(self).__name__})"
        self.conf: dict[str, Any] = parse_options(specs, options or {}, where=where)
        self.description: str = self.conf["store_description"] or ""
        self._secrets = sorted(
            (str(v) for k, v in self.conf.items() if specs[k].secret and v),
            key=len, reverse=True,
        )
        self._configure(self.conf)

    # -- hooks for drivers --------------------------------------------------------------------
    def _configure(self, conf: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Validate ``conf`` and prepare clients; raise ConfigError on bad settings."""

    @abc.abstractmethod
    def _write(
        self, image_id: str, chunks: HashingChunks
    ) -> str | tuple[str, Mapping[str, Any]]: ...

    @abc.abstractmethod
    def _read(self, location: str, offset: int, length: int) -> RawRead: ...

    @abc.abstractmethod
    def _delete(self, location: str) -> None: ...

    @abc.abstractmethod
    def _size(self, location: str) -> int: ...

    def _remove_partial(self, image_id: str) -> int:
        """Remove the leftovers of an unfinished write of ``image_id``; how many were removed.
        Nothing to do by default (see the module documentation)."""
        return 0

    def owns(self, location: str) -> bool:
        """Whether ``location`` belongs to this backend (default: by URL scheme)."""
        try:
            return loc.split(location).scheme in self.schemes
        except InvalidLocation:
            return False

    def redact(self, location: str) -> str:
        """``location`` made safe to show (no credentials)."""
        return self.scrub(loc.redact(location))

    def scrub(self, text: str) -> str:
        """Remove every secret option value from ``text``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- public template methods --------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return not self.capabilities & Capability.WRITE

    def require(self, capability: Capability) -> None:
        """Raise CapabilityError unless this backend has every flag in ``capability``."""
        missing = capability & ~self.capabilities
        if missing:
            names = ", ".join(flag.name or "?" for flag in Capability if flag in missing and flag)
            raise CapabilityError(
                f"store backend {self.backend!r} ({self.driver_name}) does not support {names}"
            )

    def write(
        self,
        image_id: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        max_size: int | None = None,
    ) -> WriteResult:
        """Store ``chunks`` under ``image_id``, hashing them in one pass.

        ``size`` is the announced size (a hint); ``max_size`` a hard limit: exceeding it raises
        SizeLimitExceeded and leaves nothing behind. Raises Duplicate if the id is taken.
        """
        self.require(Capability.WRITE)
        loc.check_image_id(image_id)
        for name, value in (("size", size), ("max_size", max_size)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InvalidInput(f"{name} must be a non-negative integer")
        if size is not None and max_size is not None and size > max_size:
            raise SizeLimitExceeded(f"image data exceeds the maximum size of {max_size} bytes")
        data = HashingChunks(
            chunks, algorithm=self.hashing_algorithm, max_size=max_size, size_hint=size
        )
        try:
            outcome = self._write(image_id, data)
        except BaseException as exc:
            data.close()
            if exc is data.source_error or isinstance(exc, StoreError | GeneratorExit):
                raise
            if not isinstance(exc, Exception):
                raise
            self._fail("write", image_id, exc)
        url, metadata = (outcome, {}) if isinstance(outcome, str) else outcome
        if not data.finished:
            leftover = next(data, None)  # the driver may stop right at the end
            if leftover is not None:
                data.close()
                self._discard(url)
                raise BackendError(
                    f"store backend {self.backend!r}: driver stopped before the end of the data"
                )
        return WriteResult(
            url=url,
            backend=self.backend,
            size=data.size,
            checksum=data.checksum,
            hash_algo=self.hashing_algorithm,
            hash_value=data.hash_value,
            metadata={**metadata, "store": self.backend},
        )

    def read(self, location: str, *, offset: int = 0, length: int | None = None) -> ReadStream:
        """Stream ``length`` bytes (default: to the end) from ``offset``.

        Raises InvalidRange if ``offset`` is past the end; a ``length`` past the end is clipped.
        """
        self.require(Capability.READ)
        if not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset must be a non-negative integer")
        if length is not None and (not isinstance(length, int) or length < 0):
            raise InvalidInput("length must be a non-negative integer")
        if offset or length is not None:
            self.require(Capability.RANGE_READ)
        self._check_owned(location)
        total = self._guard("size", location, self._size, location)
        if offset > total:
            raise InvalidRange(f"offset {offset} is beyond the end of the data ({total} bytes)")
        count = total - offset if length is None else min(length, total - offset)
        raw = self._guard("read", location, self._read, location, offset, count)
        if isinstance(raw, io.IOBase):
            file: BinaryIO = raw  # type: ignore[assignment]
            return ReadStream(
                ClosingChunks(self._file_chunks(file, count, location), file.close),
                length=count, offset=offset, file=file,
            )
        source = iter(raw)
        return ReadStream(
            ClosingChunks(self._exact(source, count, location), closer(source)),
            length=count, offset=offset,
        )

    def delete(self, location: str) -> None:
        """Delete the data at ``location`` (NotFound if there is none)."""
        self.require(Capability.DELETE)
        self._check_owned(location)
        self._guard("delete", location, self._delete, location)

    def remove_partial(self, image_id: str) -> int:
        """Remove what an unfinished write of ``image_id`` left behind (a write whose process
        died); how many leftovers were removed (0 for a read-only backend). Finished data is
        never touched. Call it only when no write of ``image_id`` is running any more."""
        loc.check_image_id(image_id)
        if self.read_only:
            return 0
        return int(self._guard("remove_partial", image_id, self._remove_partial, image_id))

    def size(self, location: str) -> int:
        """Size in bytes of the data at ``location`` (NotFound if there is none)."""
        self._check_owned(location)
        return int(self._guard("size", location, self._size, location))

    # -- internals ----------------------------------------------------------------------------
    def _check_owned(self, location: str) -> None:
        if not self.owns(location):
            raise InvalidLocation(
                f"location {self.redact(str(location))} does not belong to store backend "
                f"{self.backend!r}"
            )

    def _guard(self, op: str, location: str, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except StoreError:
            raise
        except Exception as exc:
            self._fail(op, self.redact(location), exc)

    def _fail(self, op: str, what: str, exc: Exception) -> NoReturn:
        message = self.scrub(
            f"store backend {self.backend!r}: {op} of {what} failed: "
            f"{type(exc).__name__}: {exc}"
        )
        LOG.warning("%s", message)
        if self._secrets:
            raise BackendError(message) from None
        raise BackendError(message) from exc

    def _discard(self, url: str) -> None:
        try:
            self._delete(url)
        except Exception:  # best effort: the write already failed
            LOG.warning("store backend %r: could not remove %s", self.backend, self.redact(url))

    def _exact(self, raw: Iterable[bytes], count: int, location: str) -> Iterator[bytes]:
        """Yield exactly ``count`` bytes from the driver's chunks (BackendError if short)."""
        left = count
        source = iter(raw)
        try:
            while left > 0:
                try:
                    chunk = next(source)
                except StopIteration:
                    break
                except StoreError:
                    raise
                except Exception as exc:
                    self._fail("read", self.redact(location), exc)
                if len(chunk) > left:
                    chunk = chunk[:left]
                left -= len(chunk)
                yield chunk
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if left:
            raise BackendError(
                f"store backend {self.backend!r}: data at {self.redact(location)} ended "
                f"{left} bytes early"
            )

    def _file_chunks(self, file: BinaryIO, count: int, location: str) -> Iterator[bytes]:
        left = count
        size = self.read_chunk_size
        try:
            while left > 0:
                try:
                    chunk = file.read(min(size, left))
                except OSError as exc:
                    self._fail("read", self.redact(location), exc)
                if not chunk:
                    raise BackendError(
                        f"store backend {self.backend!r}: data at {self.redact(location)} "
                        f"ended {left} bytes early"
                    )
                left -= len(chunk)
                yield chunk
        finally:
            file.close()
