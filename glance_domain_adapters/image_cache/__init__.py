"""Glance's image cache: a directory of verified image copies on the API host
(:class:`FileImageCache`, the domain's ``ImageCache`` port) and the prefetcher thread."""

from glance_domain_adapters.image_cache.cache import DRIVERS, FileImageCache, InvalidImageId
from glance_domain_adapters.image_cache.worker import Prefetcher, prefetch_queued

__all__ = ["DRIVERS", "FileImageCache", "InvalidImageId", "Prefetcher", "prefetch_queued"]
