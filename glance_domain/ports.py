"""Ports: the interfaces the domain needs from the outside world.

Adapters (SQL repository, store registry, oslo.policy enforcer, notifiers) implement these
Protocols; the domain's own in-memory implementations exist for embedding and tests. Each layer of
the gateway is given exactly the port it needs and nothing else.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Protocol, runtime_checkable

import attrs

from glance_domain.context import RequestContext
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.model.task import Task
from glance_domain.query import ImageQuery, ListScope


@attrs.frozen(kw_only=True)
class Usage:
    """What one owner currently consumes (for quotas and ``/v2/info/usage``)."""

    image_count: int = 0
    stored_bytes: int = 0
    staged_bytes: int = 0


@runtime_checkable
class ImageRepository(Protocol):
    """Persistence of images and members (the DB gateway at the bottom of the stack).

    Deleted images are never returned by ``get``/``list`` and their ids can never be added again
    (``Duplicate``), even after a purge. ``save`` is compare-and-swap: it applies only what differs
    between ``before`` and ``after`` (changed columns, added/removed/changed extra properties,
    tags, locations), and raises ``Conflict`` if the stored status is no longer
    ``before.status``. It returns the stored record (``updated_at`` set by the repository clock).
    A database that cannot be reached raises ``ServiceUnavailable``.
    """

    def add(self, image: Image) -> Image: ...

    def get(self, image_id: str) -> Image: ...

    def list(self, query: ImageQuery, scope: ListScope) -> list[Image]: ...

    def save(self, before: Image, after: Image) -> Image: ...

    def remove(self, image: Image, *, keep_data: bool = False) -> Image:
        """Soft-delete: status ``deleted``, or with ``keep_data`` (Glance's delayed delete)
        ``pending_delete`` with every live location marked ``pending_delete``: the data stays
        until a scrubber deletes it (``ScrubQueue``) or an operator restores the image.

        Compare-and-swap like ``save``: ``Conflict`` if the stored status is no longer
        ``image.status`` (a delete decided on a stale record would orphan new data)."""
        ...

    def set_property_atomic(
        self, image_id: str, name: str, value: str | None, *, expected: str | None
    ) -> None:
        """Set extra property ``name`` to ``value`` (None: delete it) only if its current
        value is ``expected`` (None: absent), atomically (Glance's ``set_property_atomic`` /
        ``delete_property_atomic``, used for the import lock). ``Conflict`` when the current
        value differs (another caller won), ``NotFound`` when the image is gone."""
        ...

    def usage(self, owner: str) -> Usage: ...

    def location_users(self, url: str) -> builtins.list[str]:
        """Ids of the images whose data at this exact URL must be kept: live images listing
        it (whatever the location's status) and ``pending_delete`` images (restorable) whose
        location the scrubber has not finished. Their data may not be deleted for another."""
        ...

    def list_members(self, image_id: str) -> builtins.list[Member]: ...

    def get_member(self, image_id: str, member_id: str) -> Member: ...

    def add_member(self, member: Member) -> Member: ...

    def save_member(self, member: Member) -> Member: ...

    def remove_member(self, member: Member) -> None: ...

    def member_status(self, image_id: str, member_id: str) -> str | None:
        """The membership status of ``member_id`` for this image, or None if not a member."""
        ...


@attrs.frozen(kw_only=True)
class ScrubJob:
    """One location of a deleted image whose data waits for the scrubber.

    ``version`` is what the queue needs to claim the job with a compare-and-swap (opaque to
    the scrubber); ``deleted_at`` is when the image was deleted."""

    image_id: str
    location_id: str
    url: str
    backend: str | None
    deleted_at: dt.datetime
    version: object = None


class ScrubQueue(Protocol):
    """The data of deleted images kept for later deletion (Glance's scrub queue).

    Safe when several scrubbers and API nodes share it: a job is done by whoever ``claim``s it
    (a claim that is not ``finish``ed within the claim timeout may be taken over: a scrubber
    that died loses no delete), and an image being scrubbed can no longer be restored."""

    def due(self, deleted_before: dt.datetime, claimed_before: dt.datetime,
            limit: int) -> builtins.list[ScrubJob]:
        """Jobs of images deleted before ``deleted_before`` and not claimed since
        ``claimed_before``, oldest first."""
        ...

    def claim(self, job: ScrubJob, now: dt.datetime) -> bool:
        """Take ``job`` (False: taken by another scrubber, or its image was restored). The
        first claim of an image's jobs also moves the image from ``pending_delete`` to
        ``deleted``: from then on it cannot be restored."""
        ...

    def finish(self, job: ScrubJob) -> None:
        """The job's data is gone: its location becomes ``deleted``."""
        ...

    def restore(self, image_id: str) -> Image:
        """``pending_delete`` -> ``active``, with the locations, properties, tags and members
        the delete removed. ``NotFound`` for an unknown id, ``Conflict`` for an image in any
        other status (including one a scrubber has started on)."""
        ...


class SignatureVerifier(Protocol):
    """Checks one image's data against its signature, fed as the data streams by."""

    def update(self, chunk: bytes) -> None: ...

    def verify(self) -> None:
        """``SignatureVerificationFailed`` unless the data fed matches the signature."""
        ...


class ImageSignatures(Protocol):
    """Glance's image signature verification (the ``img_signature*`` properties)."""

    def verifier_for(self, context: RequestContext, image: Image) -> SignatureVerifier | None:
        """None for an image without the four signature properties; a verifier otherwise, or
        ``SignatureVerificationFailed`` when none can be built (unknown certificate, expired
        certificate, bad signature encoding, unsupported key type or hash...)."""
        ...


@attrs.frozen(kw_only=True)
class StoredData:
    """What a store reports after writing an image's bytes."""

    url: str
    backend: str
    size: int
    checksum: str
    hash_algo: str
    hash_value: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


def _as_iterator(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return iter(chunks)


@attrs.define(kw_only=True, eq=False)
class DataStream:
    """Bytes read from a store: an iterator of chunks, closed when the consumer is done.

    ``file`` is an open file positioned at ``offset`` when the store is on a local file system,
    so a WSGI server can send it with zero copy (``wsgi.file_wrapper``); otherwise None.

    ``length`` is the number of bytes the iteration yields (-1 when the source does not say,
    e.g. a web-download from a chunked response). ``sent`` counts the bytes handed out by
    iteration (a consumer sending ``file`` itself sets
    it). ``close()`` is idempotent; it also happens when the chunks run out. It closes the
    chunks and the file, then calls each ``on_close(sent)`` callback once (the download
    notification, whichever way the bytes went out).
    """

    chunks: Iterator[bytes] = attrs.field(converter=_as_iterator)
    length: int
    file: BinaryIO | None = None
    on_close: list[Callable[[int], None]] = attrs.field(factory=list)
    sent: int = 0
    closed: bool = attrs.field(default=False, init=False)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self.chunks)
        except StopIteration:
            self.close()
            raise
        self.sent += len(chunk)
        return chunk

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()
        finally:
            try:
                if self.file is not None:
                    self.file.close()
            finally:
                for callback in self.on_close:
                    callback(self.sent)


@attrs.frozen(kw_only=True)
class BackendInfo:
    """A configured store backend, as shown by ``/v2/info/stores``."""

    id: str
    description: str = ""
    default: bool = False
    read_only: bool = False


@runtime_checkable
class StoreRegistry(Protocol):
    """The store backends, seen from the domain (implemented over glance_store_plugins).

    Errors are domain errors: unknown backend -> ``StoreUnavailable``; missing data ->
    ``NotFound``; ``max_size`` exceeded -> ``SizeLimitExceeded`` (nothing left behind).
    """

    def backends(self) -> list[BackendInfo]: ...

    def default_backend(self) -> str: ...

    def write(
        self,
        image_id: str,
        chunks: Iterable[bytes],
        *,
        backend: str | None = None,
        size: int | None = None,
        max_size: int | None = None,
    ) -> StoredData: ...

    def read(self, url: str, *, offset: int = 0, length: int | None = None) -> DataStream: ...

    def delete(self, url: str) -> None: ...

    def backend_of(self, url: str) -> str: ...

    def remove_partial(self, image_id: str) -> int:
        """Remove, from every backend, what an unfinished write of ``image_id`` left behind
        (its process died mid-upload); how many leftovers were removed. Finished data is
        never touched."""
        ...

    def restricted_schemes(self) -> frozenset[str]:
        """URL schemes the configured stores declare restricted: a caller may never give an
        image a location of these (besides ``location_rules.RESTRICTED_SCHEMES``)."""
        ...


class InspectedData(Protocol):
    """Image bytes on their way to a store, looked at by a format inspector as they pass.

    Iterating yields the original chunks unchanged (the inspector never buffers the image);
    ``verdict`` is called once the stream has been consumed.
    """

    def __iter__(self) -> Iterator[bytes]: ...

    def verdict(self) -> int | None:
        """The virtual size to record (None when unknown), or raise ``InvalidImageData`` when
        the data does not match the image's ``disk_format`` or fails a safety check."""
        ...


@runtime_checkable
class FormatInspector(Protocol):
    """Inspects uploaded/imported data against ``disk_format`` (Glance 33's in-flight check)."""

    def inspect(
        self, chunks: Iterable[bytes], *, disk_format: str | None, container_format: str | None
    ) -> InspectedData: ...


@runtime_checkable
class PolicyEnforcer(Protocol):
    """Decides whether ``context`` may perform ``rule`` on ``target``.

    Rule names are Glance's (get_image, add_image, modify_image, publicize_image, ...). The target
    is a flat mapping of the image's attributes (``project_id`` = owner, ``visibility``, ...) and
    ``member_id`` for member rules. ``enforce`` raises ``Forbidden``.
    """

    def enforce(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> None: ...

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool: ...


@runtime_checkable
class Notifier(Protocol):
    """Emits notifications (Glance's event types and payloads)."""

    def notify(
        self, context: RequestContext, event_type: str, payload: Mapping[str, Any], *,
        level: str = "INFO",
    ) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The current UTC time (injectable so tests can control it)."""

    def now(self) -> dt.datetime: ...


# -- interoperable image import -------------------------------------------------------------


@runtime_checkable
class TaskRepository(Protocol):
    """Persistence of tasks (Glance's ``tasks`` table).

    ``get`` raises ``NotFound``; ``list`` returns tasks newest first, optionally only those of
    ``owner`` (None: every owner) and of ``image_id``; expired tasks are never returned.
    """

    def add(self, task: Task) -> Task: ...

    def get(self, task_id: str) -> Task: ...

    def save(self, task: Task) -> Task: ...

    def list(
        self, *, owner: str | None = None, image_id: str | None = None
    ) -> builtins.list[Task]: ...


@runtime_checkable
class StagingArea(Protocol):
    """Where image data waits between ``/stage`` (or a download) and the import into stores.

    One object per image id. ``write`` replaces any previous data, raises
    ``SizeLimitExceeded`` past ``max_size`` (keeping nothing), and returns the size written.
    ``read``/``delete`` raise ``NotFound`` when nothing is staged.
    """

    def write(self, image_id: str, chunks: Iterable[bytes], *, max_size: int | None = None
              ) -> int: ...

    def read(self, image_id: str) -> DataStream: ...

    def delete(self, image_id: str) -> None: ...

    def exists(self, image_id: str) -> bool: ...

    def remove_partial(self, image_id: str) -> int:
        """Remove the temporary data of an unfinished ``write`` of ``image_id`` (its process
        died); how many leftovers were removed. Finished staged data is kept."""
        ...


@runtime_checkable
class UriFetcher(Protocol):
    """Fetches image data from a URL for the ``web-download`` import method.

    ``check`` validates a URL before a task is created (scheme, host, port, network filtering)
    and raises ``InvalidInput``; ``open`` streams the data (``NotFound``/``StoreUnavailable``
    on failure), checking again at connection time.
    """

    def check(self, uri: str) -> None: ...

    def open(self, uri: str) -> DataStream: ...


class RemoteImages(Protocol):
    """Another Glance's Image API v2, read with the caller's token (glance-download).

    ``RemoteImageError`` (``glance_domain.importing.glance_download``) when it cannot be
    reached or answers with an error."""

    def image(self, endpoint: str, image_id: str, token: str | None) -> Mapping[str, Any]: ...

    def open(self, endpoint: str, image_id: str, token: str | None) -> DataStream: ...


@runtime_checkable
class TaskExecutor(Protocol):
    """Runs work in the background (a thread pool in a server, inline in tests)."""

    def submit(self, work: Callable[[], None]) -> None: ...


@attrs.frozen(kw_only=True)
class CacheKey:
    """What a cached copy of an image's data must match to be served.

    ``fingerprint`` digests the size, the checksums and the image's active locations: a copy
    made before any of them changed (new data behind a replaced location, say) never matches.
    """

    image_id: str
    size: int
    checksum: str | None
    fingerprint: str
    os_hash_algo: str | None = None
    os_hash_value: str | None = None


@runtime_checkable
class ImageCache(Protocol):
    """A local cache of image data (Glance's image cache), used by ``CacheLayer``.

    - ``open``: a stream of ``length`` bytes from ``offset`` of the cached copy matching ``key``
      (with ``file`` set, for zero-copy sending), or None on a miss (a copy that no longer
      matches is dropped).
    - ``fill``: ``stream`` (the whole image, read from a store) returned for the caller to
      consume as usual; its bytes are copied into the cache on the side and made visible only
      once the size and checksums are verified and ``still_current()`` (when given) still
      says the image exists with the same data. Filling never fails the stream: on any error,
      or when the stream is not read to the end, the copy is discarded. ``inline``: write in
      the consuming thread (prefetching) rather than in the background.
    - ``contains``: whether a copy matching ``key`` is cached.
    - ``evict``: forget the image's copy (and any fill in progress).
    """

    def open(self, key: CacheKey, offset: int, length: int) -> DataStream | None: ...

    def fill(self, key: CacheKey, stream: DataStream, *, inline: bool = False,
             still_current: Callable[[], bool] | None = None) -> DataStream: ...

    def contains(self, key: CacheKey) -> bool: ...

    def evict(self, image_id: str) -> None: ...
