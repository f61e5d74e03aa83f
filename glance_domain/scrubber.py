"""The scrubber: deletes the data of images deleted with ``delayed_delete`` once ``scrub_time``
has passed (Glance's ``glance-scrubber``).

A run asks the ``ScrubQueue`` for due jobs (one per location of a ``pending_delete`` image),
groups them by image and scrubs up to ``pool_size`` images at a time: each job is claimed
(so two scrubbers never delete the same data), its data deleted through the store registry
(data already gone counts as deleted, as in Glance) and the job finished. A job whose delete
fails keeps its claim and is tried again once the claim has expired (``claim_timeout``); a
scrubber killed mid-way leaves claims that expire the same way, so no delete is lost.

    >>> from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
    >>> from glance_domain.scrub_memory import MemoryScrubQueue
    >>> repo = MemoryImageRepository()
    >>> report = Scrubber(MemoryScrubQueue(repo), MemoryStoreRegistry(), scrub_time=0).run()
    >>> (report.images, report.locations, report.failed)
    (0, 0, 0)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import attrs

from glance_domain.clock import SystemClock
from glance_domain.errors import NotFound
from glance_domain.ports import Clock, ScrubJob, ScrubQueue, StoreRegistry

LOG = logging.getLogger(__name__)

#: Seconds after which a claim that was never finished may be taken by another scrubber.
CLAIM_TIMEOUT = 600
#: Jobs fetched from the queue at a time.
BATCH = 500


@attrs.frozen(kw_only=True)
class ScrubReport:
    """What one run did: images whose every location it deleted, locations deleted, and
    locations whose delete failed (tried again later)."""

    images: int = 0
    locations: int = 0
    failed: int = 0


@attrs.define(kw_only=True)
class _Tally:
    images: int = 0
    locations: int = 0
    failed: int = 0
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def add(self, locations: int, failed: int) -> None:
        with self.lock:
            self.images += 1 if locations and not failed else 0
            self.locations += locations
            self.failed += failed


class Scrubber:
    """Scrubs the queue's due jobs; ``scrub_time`` and ``pool_size`` are Glance's
    ``scrub_time`` and ``scrub_pool_size``."""

    def __init__(
        self, queue: ScrubQueue, stores: StoreRegistry, *, scrub_time: int = 0,
        pool_size: int = 1, clock: Clock | None = None, claim_timeout: float = CLAIM_TIMEOUT,
        location_users: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        """``location_users`` (``ImageRepository.location_users``): data another image still
        lists is kept (its job finishes without a delete), as the store layer does on an
        immediate delete."""
        self.location_users = location_users
        self.queue = queue
        self.stores = stores
        self.scrub_time = scrub_time
        self.pool_size = max(1, pool_size)
        self.clock: Clock = clock or SystemClock()
        self.claim_timeout = claim_timeout

    def run(self) -> ScrubReport:
        """Scrub everything due now; returns what was done."""
        tally = _Tally()
        started = self.clock.now()
        deleted_before = started - dt.timedelta(seconds=self.scrub_time)
        claimed_before = started - dt.timedelta(seconds=self.claim_timeout)
        seen: set[tuple[str, str]] = set()
        with ThreadPoolExecutor(max_workers=self.pool_size,
                                thread_name_prefix="scrubber") as pool:
            while True:
                jobs = [job for job in self.queue.due(deleted_before, claimed_before, BATCH)
                        if (job.image_id, job.location_id) not in seen]
                if not jobs:
                    break
                seen.update((job.image_id, job.location_id) for job in jobs)
                by_image: dict[str, list[ScrubJob]] = {}
                for job in jobs:
                    by_image.setdefault(job.image_id, []).append(job)
                for done, failed in pool.map(self._scrub_image, by_image.values()):
                    tally.add(done, failed)
        LOG.info("scrubbed %d image(s), %d location(s); %d failed", tally.images,
                 tally.locations, tally.failed)
        return ScrubReport(images=tally.images, locations=tally.locations, failed=tally.failed)

    def _scrub_image(self, jobs: Sequence[ScrubJob]) -> tuple[int, int]:
        done = failed = 0
        for job in jobs:
            if not self.queue.claim(job, self.clock.now()):
                continue  # another scrubber has it, or the image was restored
            try:
                if self._shared(job):
                    LOG.warning("image %s: the data of a location is kept: other images list "
                                "the same location", job.image_id)
                else:
                    self.stores.delete(job.url)
            except NotFound:
                LOG.info("image %s: data already gone from a location", job.image_id)
            except Exception:
                LOG.warning("image %s: cannot delete the data of a location (tried again "
                            "once the claim expires)", job.image_id, exc_info=True)
                failed += 1
                continue
            self.queue.finish(job)
            done += 1
        if done and not failed:
            LOG.info("image %s scrubbed", jobs[0].image_id)
        return done, failed

    def _shared(self, job: ScrubJob) -> bool:
        """Whether another image lists the job's location (a location belongs to one image:
        see ``glance_domain.location_rules``)."""
        if self.location_users is None:
            return False
        return any(other != job.image_id for other in self.location_users(job.url))
