"""Recovery of uploads whose writer died: back to ``queued``, partial bytes removed.

A process killed in the middle of ``PUT /v2/images/{id}/file`` (or ``/stage``) leaves the image
``saving`` (``uploading``) and the data it had written so far in the store (a ``.partial``
file, an unfinished S3 multipart upload) or in the staging area. Nothing else would ever change
either: a new upload of the image is refused with 409 and the bytes are never reclaimed.

:class:`UploadRecovery` finds such uploads through their leases (:mod:`.db.upload_leases`:
expired, or owned by a process of this host that is gone), takes each lease over with a
compare-and-swap so that one process recovers each image whatever the number of API processes
and hosts sharing the database, removes the partial data (``remove_partial`` of every store
backend, or of the staging area) and only then returns the image to ``queued``, as Glance does
after a failed upload. ``glance-domain serve`` runs one pass when it starts and every worker
process runs one at start-up and then every ``upload_recovery_interval`` seconds
(:func:`start`); a pass that fails on an unreachable store leaves the lease to expire and be
tried again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from glance_domain import errors
from glance_domain.model.status import transition
from glance_domain.ports import StagingArea, StoreRegistry
from glance_domain_adapters.db import upload_leases
from glance_domain_adapters.db.upload_leases import Lease, utcnow

LOG = logging.getLogger(__name__)


class UploadRecovery:
    """Recovers abandoned uploads of one image database (a ``SqlImageRepository``)."""

    def __init__(self, repository: Any, stores: StoreRegistry,
                 staging: StagingArea | None) -> None:
        self.repository = repository
        self.stores = stores
        self.staging = staging

    def run_once(self) -> list[str]:
        """One pass; the ids of the images returned to ``queued``."""
        engine = self.repository.engine
        seconds = self.repository.lease_seconds
        recovered = []
        for lease in upload_leases.abandoned(engine, utcnow()):
            if not upload_leases.claim(engine, lease, utcnow(), seconds):
                continue  # another process got there first, or the writer renewed it
            upload_leases.LeaseKeeper.hold(engine, seconds)  # ours while we work on it
            try:
                if self._recover(lease):
                    recovered.append(lease.image_id)
            except Exception:
                LOG.warning("image %s: cannot recover its abandoned upload yet",
                            lease.image_id, exc_info=True)
        return recovered

    def _remove_partial(self, lease: Lease) -> None:
        if lease.kind == "stage":
            if self.staging is not None:
                self.staging.remove_partial(lease.image_id)
                with contextlib.suppress(errors.NotFound):  # written, but its size not saved
                    self.staging.delete(lease.image_id)
            return
        self.stores.remove_partial(lease.image_id)

    def _recover(self, lease: Lease) -> bool:
        engine = self.repository.engine
        try:
            image = self.repository.get(lease.image_id)
        except errors.NotFound:  # deleted meanwhile (a delete drops the lease; be thorough)
            self._remove_partial(lease)
            upload_leases.drop(engine, lease.image_id)
            return False
        if upload_leases.lease_kind(image) is None:  # the write is over: a stale row
            upload_leases.drop(engine, lease.image_id)
            return False
        self._remove_partial(lease)  # before queued: a new upload's data must not be removed
        try:
            self.repository.save(image, transition(image, "queued"))  # drops our lease
        except (errors.Conflict, errors.NotFound):
            upload_leases.drop(engine, lease.image_id)
            return False
        LOG.warning("image %s: its %s stopped with its process (%s); the image is queued "
                    "again and the partial data removed", image.id,
                    "upload" if lease.kind == "upload" else "staging", lease.owner)
        return True


class RecoveryThread:
    """The daemon thread of :func:`start`; ``stop()`` ends it after its current pass."""

    def __init__(self, recovery: UploadRecovery, interval: float) -> None:
        self.recovery = recovery
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="upload-recovery", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.recovery.run_once()
            except Exception:  # the database is unreachable: try again later
                LOG.warning("upload recovery pass failed", exc_info=True)
            if self.interval <= 0:
                return
            self._stop.wait(self.interval)

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self.thread.join(timeout)


def start(recovery: UploadRecovery, interval: float) -> RecoveryThread:
    """Run ``recovery`` now and then every ``interval`` seconds (0: only now) in a daemon
    thread of this process."""
    running = RecoveryThread(recovery, interval)
    running.thread.start()
    return running
