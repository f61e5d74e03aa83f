"""The ``ScrubQueue`` port over a :class:`~glance_domain.memory.MemoryImageRepository`.

The memory repository keeps a delayed-deleted image as a ``pending_delete`` record whose
locations are ``pending_delete``; this queue reads and changes those records under the
repository's lock (it is the repository's companion, not a second store of state).
"""

from __future__ import annotations

import builtins
import datetime as dt

import attrs

from glance_domain.errors import Conflict, NotFound
from glance_domain.memory import MemoryImageRepository
from glance_domain.model.image import Image
from glance_domain.ports import ScrubJob


class MemoryScrubQueue:
    """Delayed deletes of one memory repository (claims are held in this object)."""

    def __init__(self, repository: MemoryImageRepository) -> None:
        self._repo = repository
        self._claims: dict[tuple[str, str], dt.datetime] = {}

    def due(self, deleted_before: dt.datetime, claimed_before: dt.datetime,
            limit: int) -> builtins.list[ScrubJob]:
        repo = self._repo
        jobs = []
        with repo._lock:
            for image_id, deleted_at in sorted(repo.deleted_at.items(), key=lambda kv: kv[1]):
                if deleted_at > deleted_before:
                    continue
                for index, location in enumerate(repo._images[image_id].locations):
                    claimed = self._claims.get((image_id, str(index)))
                    if location.status != "pending_delete" or (
                            claimed is not None and claimed > claimed_before):
                        continue
                    jobs.append(ScrubJob(image_id=image_id, location_id=str(index),
                                         url=location.url, backend=location.backend,
                                         deleted_at=deleted_at, version=claimed))
        return jobs[:limit]

    def claim(self, job: ScrubJob, now: dt.datetime) -> bool:
        repo = self._repo
        key = (job.image_id, job.location_id)
        with repo._lock:
            image = repo._images.get(job.image_id)
            if (image is None or repo.deleted_at.get(job.image_id) != job.deleted_at
                    or self._claims.get(key) != job.version):
                return False
            if image.status == "pending_delete":  # scrubbing starts: no restore from now on
                repo._images[job.image_id] = attrs.evolve(image, status="deleted")
                repo.deleted_members.pop(job.image_id, None)
            self._claims[key] = now
            return True

    def finish(self, job: ScrubJob) -> None:
        repo = self._repo
        with repo._lock:
            image = repo._images[job.image_id]
            index = int(job.location_id)
            locations = list(image.locations)
            locations[index] = attrs.evolve(locations[index], status="deleted")
            repo._images[job.image_id] = attrs.evolve(image, locations=tuple(locations))
            self._claims.pop((job.image_id, job.location_id), None)
            if all(loc.status == "deleted" for loc in locations):
                repo.deleted_at.pop(job.image_id, None)

    def restore(self, image_id: str) -> Image:
        repo = self._repo
        with repo._lock:
            image = repo._images.get(image_id)
            if image is None:
                raise NotFound(f"No image found with ID {image_id}")
            if image.status != "pending_delete":
                raise Conflict(f"cannot restore the image from {image.status} to active "
                               "(wanted from_state=pending_delete)")
            restored = attrs.evolve(
                image, status="active", updated_at=repo._clock.now(),
                locations=tuple(attrs.evolve(loc, status="active") for loc in image.locations))
            repo._images[image_id] = restored
            repo._tombstones.discard(image_id)
            repo._members[image_id] = repo.deleted_members.pop(image_id, {})
            repo.deleted_at.pop(image_id, None)
            return restored
