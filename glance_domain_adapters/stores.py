"""Bridge from glance_store_plugins to the domain's ``StoreRegistry`` port.

:class:`PluginStoreRegistry` wraps a :class:`glance_store_plugins.Registry` and translates its
records and errors into the domain's: ``WriteResult`` -> ``StoredData``, ``ReadStream`` ->
``DataStream`` (keeping the open file of the ``file`` driver for zero-copy responses), and
store errors -> ``glance_domain.errors`` (also for errors raised while the data is streamed).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator

import glance_store_plugins as gsp
from glance_domain import errors as domain
from glance_domain.ports import BackendInfo, DataStream, StoredData

LOG = logging.getLogger(__name__)

#: How each store error is seen by the domain (first match wins: subclasses before bases).
_ERRORS: tuple[tuple[type[gsp.StoreError], type[domain.DomainError]], ...] = (
    (gsp.NotFound, domain.NotFound),
    (gsp.Duplicate, domain.Duplicate),
    (gsp.InUse, domain.Conflict),
    (gsp.SizeLimitExceeded, domain.SizeLimitExceeded),
    (gsp.InvalidRange, domain.RangeNotSatisfiable),
    (gsp.InvalidLocation, domain.InvalidInput),
    (gsp.InvalidInput, domain.InvalidInput),
    (gsp.CapabilityError, domain.StoreUnavailable),
    (gsp.UnknownBackend, domain.StoreUnavailable),
    (gsp.ConfigError, domain.StoreUnavailable),
    (gsp.BackendError, domain.StoreUnavailable),
    (gsp.StoreError, domain.StoreUnavailable),
)


#: What callers read for store errors whose own text may name a location (a path of this host,
#: a bucket, a pool); the store's text goes to the log instead. First match wins.
_SAFE_TEXTS: tuple[tuple[type[gsp.StoreError], str], ...] = (
    (gsp.NotFound, "Image data not found in the store."),
    (gsp.InvalidLocation, "Invalid location"),
)
#: A URL in a store error's text (``scheme://...`` up to the next blank or quote).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*")
#: An absolute path of two components or more (what an OSError's text quotes).
_PATH = re.compile(r"(?<![\w.~-])/(?:[^\s'\"/]+/)+[^\s'\"]*")


def public_text(exc: gsp.StoreError) -> str:
    """The text of a store error safe to show to any caller: no location of any kind.

    >>> public_text(gsp.NotFound("no data at file:///var/lib/glance/images/abc"))
    'Image data not found in the store.'
    >>> public_text(gsp.UnknownBackend("no configured store backend holds s3://h/b/k"))
    'no configured store backend holds <location>'
    >>> public_text(gsp.BackendError("read failed: [Errno 13] Permission denied: '/srv/i/x'"))
    "read failed: [Errno 13] Permission denied: '<path>'"
    """
    for store_cls, text in _SAFE_TEXTS:
        if isinstance(exc, store_cls):
            return text
    return _PATH.sub("<path>", _URL.sub("<location>", exc.message))


def translate(exc: gsp.StoreError) -> domain.DomainError:
    """The domain error equivalent to a store error, with a text that names no location
    (:func:`public_text`; the store's own text is logged when it differs)."""
    text = public_text(exc)
    if text != exc.message:
        LOG.info("store error %s: %s", type(exc).__name__, exc.message)
    for store_cls, domain_cls in _ERRORS:
        if isinstance(exc, store_cls):
            return domain_cls(text)
    return domain.StoreUnavailable(text)  # pragma: no cover - StoreError is last


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except gsp.StoreError as exc:
        raise translate(exc) from exc


def _translated_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        with _translated():
            yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class PluginStoreRegistry:
    """The domain ``StoreRegistry`` port over a glance_store_plugins ``Registry``."""

    def __init__(self, registry: gsp.Registry) -> None:
        self.registry = registry

    def backends(self) -> list[BackendInfo]:
        return [
            BackendInfo(
                id=store.backend,
                description=store.description,
                default=store.backend == self.registry.default,
                read_only=store.read_only,
            )
            for store in self.registry
        ]

    def default_backend(self) -> str:
        return self.registry.default

    def write(
        self,
        image_id: str,
        chunks: Iterable[bytes],
        *,
        backend: str | None = None,
        size: int | None = None,
        max_size: int | None = None,
    ) -> StoredData:
        with _translated():
            result = self.registry.write(
                image_id, chunks, backend=backend, size=size, max_size=max_size
            )
        return StoredData(
            url=result.url,
            backend=result.backend,
            size=result.size,
            checksum=result.checksum,
            hash_algo=result.hash_algo,
            hash_value=result.hash_value,
            metadata=dict(result.metadata),
        )

    def read(self, url: str, *, offset: int = 0, length: int | None = None) -> DataStream:
        with _translated():
            stream = self.registry.read(url, offset=offset, length=length)
        return DataStream(
            chunks=gsp.ClosingChunks(_translated_chunks(stream.chunks), stream.close),
            length=stream.length, file=stream.file,
        )

    def delete(self, url: str) -> None:
        with _translated():
            self.registry.delete(url)

    def restricted_schemes(self) -> frozenset[str]:
        return self.registry.restricted_schemes()

    def backend_of(self, url: str) -> str:
        with _translated():
            return self.registry.backend_of(url)

    def remove_partial(self, image_id: str) -> int:
        with _translated():
            return self.registry.remove_partial(image_id)
