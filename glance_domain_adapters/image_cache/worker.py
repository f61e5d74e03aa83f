"""The prefetcher: fills queued images in the background of the API process.

As Glance 33's cache worker, ``PUT /v2/cache/{id}`` hands the image to this thread at once.
Every ``cache_prefetcher_interval`` seconds (0: never) it also looks at the queue directory, so
images queued by ``glance-domain cache queue`` or by another process are fetched too.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from glance_domain_adapters.image_cache.cache import FileImageCache

LOG = logging.getLogger(__name__)


def prefetch_queued(cache: FileImageCache, prefetch: Callable[[str], bool]) -> tuple[int, int]:
    """Fetch every queued image now; (cached, failed). As in Glance, an image that could not
    be cached (unknown, not active, a store error) stays queued."""
    cached = failed = 0
    for image_id in cache.queued_images():
        if _fetch(cache, prefetch, image_id):
            cached += 1
        else:
            failed += 1
    return cached, failed


def _fetch(cache: FileImageCache, prefetch: Callable[[str], bool], image_id: str) -> bool:
    try:
        ok = prefetch(image_id)
    except Exception:
        LOG.warning("image cache: prefetching image %s failed", image_id, exc_info=True)
        return False
    if ok:
        cache.delete_queued(image_id)
    return ok


class Prefetcher:
    """One daemon thread fetching submitted (and, periodically, queued) images."""

    def __init__(self, cache: FileImageCache, prefetch: Callable[[str], bool],
                 interval: float = 300.0) -> None:
        self.cache = cache
        self.prefetch = prefetch
        self.interval = interval
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="image-cache-prefetcher",
                                                daemon=True)
                self._thread.start()

    def submit(self, image_id: str) -> None:
        self.start()
        self._queue.put(image_id)

    def stop(self, timeout: float | None = None) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def join(self) -> None:
        """Wait until every submitted image has been handled (tests)."""
        self._queue.join()

    def _run(self) -> None:
        timeout = self.interval if self.interval > 0 else None
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                try:
                    prefetch_queued(self.cache, self.prefetch)
                except Exception:
                    LOG.warning("image cache: prefetching queued images failed", exc_info=True)
                continue
            try:
                if item is None:
                    return
                _fetch(self.cache, self.prefetch, item)
            finally:
                self._queue.task_done()
