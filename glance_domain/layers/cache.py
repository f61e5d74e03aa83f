"""CacheLayer: downloads served from, and copied into, a local image cache (Glance's cache).

It sits right above the store layer, so every rule above it (visibility, ``download_image``,
deactivated images) has been applied before a byte is served, whether from the cache or a store.

- A download of an ``active`` image is served from the cache when a copy matching the image
  (size, checksums, locations: :func:`cache_key`) is there, ranges included.
- A miss that reads the whole image from a store has its bytes copied into the cache on the
  side (``ImageCache.fill``); ranged downloads fill nothing, as in Glance.
- Deactivated images are never served from the cache (an admin gets them from the store), as in
  Glance. Deleting an image, or a change of its data or locations, evicts its copy.

With ``serve=False`` (a cache managed only through the API, Glance's ``image_cache_dir`` without
the caching pipeline) downloads go straight to the store; evictions still happen.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from glance_domain.errors import NotFound
from glance_domain.layers.base import Layer
from glance_domain.layers.store import requested_length
from glance_domain.model.image import Image
from glance_domain.ports import CacheKey, DataStream, ImageCache

LOG = logging.getLogger(__name__)


def data_fingerprint(image: Image) -> str | None:
    """A digest of what identifies an image's data (None when it has none to cache)."""
    if image.size is None:
        return None
    urls = sorted(loc.url for loc in image.locations if loc.status == "active")
    if not urls:
        return None
    digest = hashlib.sha256()
    for part in (str(image.size), image.checksum or "", image.os_hash_algo or "",
                 image.os_hash_value or "", *urls):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(image: Image) -> CacheKey | None:
    """The key of ``image``'s cached copy, or None when it may not be cached or served from
    the cache (not ``active``, no data)."""
    if image.status != "active":
        return None
    fingerprint = data_fingerprint(image)
    if fingerprint is None or image.size is None:
        return None
    return CacheKey(image_id=image.id, size=image.size, checksum=image.checksum,
                    fingerprint=fingerprint, os_hash_algo=image.os_hash_algo,
                    os_hash_value=image.os_hash_value)


def is_current(key: CacheKey, lookup: Callable[[str], Image]) -> bool:
    """Whether the image ``key`` was made for still exists, ``active`` with the same data
    (``lookup``: the image by id, NotFound once it is deleted)."""
    try:
        image = lookup(key.image_id)
    except NotFound:
        return False
    return cache_key(image) == key


class CacheLayer(Layer):
    """Serves and fills downloads through ``cache``; evicts on delete and data changes."""

    __slots__ = ("cache", "serve")

    def __init__(self, inner: Layer, cache: ImageCache, *, serve: bool = True) -> None:
        super().__init__(inner)
        self.cache = cache
        self.serve = serve

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        key = cache_key(image) if self.serve else None
        if key is None:
            return self.inner.download(image, offset, length)
        wanted = requested_length(key.size, offset, length)
        hit = self._open(key, offset, wanted)
        if hit is not None:
            return hit
        stream = self.inner.download(image, offset, length)
        if stream is None or offset != 0 or stream.length != key.size or key.size == 0:
            return stream
        # checked again just before the copy becomes visible: a delete racing the download
        # must not leave a copy of a deleted image behind
        inner = self.inner
        return self.cache.fill(key, stream,
                               still_current=lambda: is_current(key, inner.get))

    def _open(self, key: CacheKey, offset: int, length: int) -> DataStream | None:
        try:
            return self.cache.open(key, offset, length)
        except Exception:  # a broken cache must not break downloads: use the store
            LOG.warning("image %s: cannot read the image cache", key.image_id, exc_info=True)
            return None

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        saved = self.inner.save(before, after, action)
        if data_fingerprint(before) != data_fingerprint(saved):
            self._evict(saved.id)
        return saved

    def remove(self, image: Image) -> Image:
        removed = self.inner.remove(image)
        self._evict(image.id)
        return removed

    def _evict(self, image_id: str) -> None:
        try:
            self.cache.evict(image_id)
        except Exception:
            LOG.warning("image %s: cannot remove it from the image cache", image_id,
                        exc_info=True)
