"""Integrity scrub (beyond Glance): re-read stored bytes and compare them with what the image
record says (``size``, ``checksum``, ``os_hash_value``).

Every active location of an image is read straight from its store (never from the image
cache: the point is to check the stored copy), hashed once with md5 and the image's
``os_hash_algo``, and reported as one :class:`Finding`. A copy that differs or cannot be found
sends an ``image.verify.failed`` notification; quarantining is the caller's choice
(``ImageService.quarantine_image``). A :class:`Throttle` caps the read rate so a periodic
scrub does not starve the service.

    >>> from glance_domain.memory import MemoryStoreRegistry
    >>> stores = MemoryStoreRegistry()
    >>> stored = stores.write("i1", [b"data"])
    >>> import datetime as dt
    >>> from glance_domain.model.image import Image
    >>> from glance_domain.model.location import Location
    >>> image = Image(id="i1", status="active", created_at=dt.datetime(2024, 1, 1),
    ...               updated_at=dt.datetime(2024, 1, 1), size=4, checksum=stored.checksum,
    ...               os_hash_algo=stored.hash_algo, os_hash_value=stored.hash_value,
    ...               locations=(Location(url=stored.url),))
    >>> [f.outcome for f in Verifier(stores).verify(image)]
    ['ok']
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from glance_domain.context import RequestContext
from glance_domain.errors import NotFound
from glance_domain.model.image import Image
from glance_domain.ports import Notifier, StoreRegistry

LOG = logging.getLogger(__name__)

#: Outcomes of one copy: the data matches; differs; is gone; could not be read; or the image
#: has no data to check (no active location, or no recorded checksum).
OK, MISMATCH, MISSING, UNREADABLE, NO_DATA = "ok", "mismatch", "missing", "unreadable", "no-data"
#: The outcomes that are failures (reported, notified, quarantined on request).
FAILURES = frozenset({MISMATCH, MISSING, UNREADABLE})
#: The extra property a quarantined image carries (``os_glance_``: users cannot set it).
QUARANTINE_PROPERTY = "os_glance_verify_failure"


@attrs.frozen(kw_only=True)
class Finding:
    """What the check of one copy of one image found."""

    image_id: str
    name: str | None
    backend: str | None
    outcome: str
    detail: str = ""
    bytes_read: int = 0

    @property
    def failed(self) -> bool:
        return self.outcome in FAILURES


@attrs.frozen(kw_only=True)
class Digest:
    """Size, md5 and multihash of some bytes (one pass)."""

    size: int
    checksum: str
    hash_value: str | None


def digest(chunks: Iterable[bytes], algorithm: str | None,
           on_chunk: Callable[[int], None] | None = None) -> Digest:
    """Hash ``chunks`` once with md5 and ``algorithm`` (None: md5 only)."""
    md5 = hashlib.md5(usedforsecurity=False)
    multihash = hashlib.new(algorithm) if algorithm else None
    size = 0
    for chunk in chunks:
        size += len(chunk)
        md5.update(chunk)
        if multihash is not None:
            multihash.update(chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
    return Digest(size=size, checksum=md5.hexdigest(),
                  hash_value=multihash.hexdigest() if multihash is not None else None)


class Throttle:
    """Caps a read rate at ``rate`` bytes per second (None or 0: no cap); thread-safe."""

    def __init__(self, rate: int | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        self.rate = rate or None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._start = clock()
        self._consumed = 0

    def __call__(self, nbytes: int) -> None:
        if self.rate is None:
            return
        with self._lock:
            self._consumed += nbytes
            ahead = self._consumed / self.rate - (self._clock() - self._start)
        if ahead > 0:
            self._sleep(ahead)


class Verifier:
    """Checks images' stored copies; failures go to ``notifier`` as ``image.verify.failed``."""

    def __init__(self, stores: StoreRegistry, notifier: Notifier | None = None, *,
                 throttle: Throttle | None = None,
                 context: RequestContext | None = None) -> None:
        self.stores = stores
        self.notifier = notifier
        self.throttle = throttle or Throttle(None)
        self.context = context or RequestContext(is_admin=True, roles=("admin",))

    def verify(self, image: Image) -> list[Finding]:
        """One finding per active location of ``image`` (one ``no-data`` finding when there
        is nothing to check)."""
        locations = [loc for loc in image.locations if loc.status == "active"]
        if not locations or image.checksum is None or image.size is None:
            return [Finding(image_id=image.id, name=image.name, backend=None, outcome=NO_DATA,
                            detail=f"status {image.status}, no stored data to check")]
        findings = [self._check(image, location.url, location.backend)
                    for location in locations]
        for finding in findings:
            if finding.failed:
                self._notify(image, finding)
        return findings

    def _check(self, image: Image, url: str, backend: str | None) -> Finding:
        base = attrs.evolve(_BLANK, image_id=image.id, name=image.name, backend=backend)
        try:
            stream = self.stores.read(url)
        except NotFound:
            return attrs.evolve(base, outcome=MISSING, detail="no data at this location")
        except Exception as exc:
            return attrs.evolve(base, outcome=UNREADABLE, detail=_one_line(exc))
        try:
            found = digest(stream, image.os_hash_algo, self.throttle)
        except NotFound:
            return attrs.evolve(base, outcome=MISSING, detail="the data vanished while read")
        except Exception as exc:
            return attrs.evolve(base, outcome=UNREADABLE, detail=_one_line(exc))
        finally:
            stream.close()
        problems = []
        if found.size != image.size:
            problems.append(f"size {found.size}, expected {image.size}")
        if found.checksum != image.checksum:
            problems.append(f"md5 {found.checksum}, expected {image.checksum}")
        if image.os_hash_value and found.hash_value != image.os_hash_value:
            problems.append(f"{image.os_hash_algo} {found.hash_value}, expected "
                            f"{image.os_hash_value}")
        if problems:
            return attrs.evolve(base, outcome=MISMATCH, detail="; ".join(problems),
                           bytes_read=found.size)
        return attrs.evolve(base, outcome=OK, bytes_read=found.size)

    def _notify(self, image: Image, finding: Finding) -> None:
        LOG.error("image %s: stored copy in %s failed verification: %s: %s", image.id,
                  finding.backend or "its store", finding.outcome, finding.detail)
        if self.notifier is None:
            return
        payload = {
            "id": image.id, "name": image.name, "owner": image.owner, "status": image.status,
            "store": finding.backend, "outcome": finding.outcome, "detail": finding.detail,
            "size": image.size, "checksum": image.checksum,
            "os_hash_algo": image.os_hash_algo, "os_hash_value": image.os_hash_value,
        }
        try:
            self.notifier.notify(self.context, "image.verify.failed", payload, level="ERROR")
        except Exception:  # a notification must not stop the scrub
            LOG.warning("image %s: cannot send image.verify.failed", image.id, exc_info=True)


_BLANK = Finding(image_id="", name=None, backend=None, outcome=OK)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
