"""Upload leases: which process is writing an image's data, and until when it is trusted to.

An image is *being written* while it is ``saving`` (``PUT /file``) or ``uploading`` with no size
yet (``PUT /stage`` running). The repository takes a lease row in the same transaction as the
status change that starts such a write, and drops it in the transaction that ends it, so a row
exists exactly while a write is in flight (:func:`lease_kind`). The row names its owner process
(:func:`process_owner`: host name, boot id, pid namespace, pid and the process's start time)
and an expiry that a thread of that process pushes forward every ``lease_seconds / 3``
(:class:`LeaseKeeper`).

A writer that dies (``kill -9``, an OOM kill, a host crash) stops renewing. Any process sharing
the database then sees the lease as abandoned once it has expired, or at once when the owner ran
on the same host and that process is gone (:func:`owner_gone`; the pid alone is not trusted: its
start time must match too). ``glance_domain_adapters.upload_recovery`` takes such a lease over
with a compare-and-swap (:func:`claim`), so exactly one process recovers each image, however
many API processes or hosts share the database.

A write that ends normally must still hold its lease (:func:`release` checks the owner): an
upload whose lease was taken over (its process stalled past the expiry) cannot complete.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import weakref
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, delete, insert, select, update

from glance_domain import errors
from glance_domain.model.image import Image
from glance_domain_adapters.db.engine import WRITE_OPTION
from glance_domain_adapters.db.tables import upload_leases

LOG = logging.getLogger(__name__)

#: Default lifetime of a lease without renewal, in seconds ([DEFAULT] upload_lease_timeout).
DEFAULT_LEASE_SECONDS = 60


def lease_kind(image: Image) -> str | None:
    """``"upload"`` or ``"stage"`` while ``image``'s data is being written, else None."""
    if image.status == "saving":
        return "upload"
    if image.status == "uploading" and image.size is None:
        return "stage"
    return None


# -- who owns a lease ---------------------------------------------------------------------------

def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The start time (clock ticks since boot) of process ``pid``, None if it does not exist."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def _host() -> str:
    """Where pids mean the same processes: host name, boot, pid namespace (two containers
    with the host's name and network but their own pid namespaces must not judge each other's
    pids)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:")
    except OSError:
        namespace = ""
    return (f"{socket.gethostname()[:100]}/"
            f"{_read('/proc/sys/kernel/random/boot_id')}:{namespace[:30]}")


def process_owner() -> str:
    """This process's owner name: ``<host name>/<boot id>:<pid namespace>/<pid>/<start
    time>``."""
    pid = os.getpid()
    return f"{_host()}/{pid}/{_start_time(pid) or ''}"


def owner_gone(owner: str) -> bool:
    """Whether ``owner`` is a process of this host (same name and boot) that no longer runs.
    Owners on other hosts are never judged here (their lease expiry tells)."""
    host, sep, rest = owner.rpartition("/")[0].rpartition("/")
    if not sep or host != _host():
        return False
    try:
        pid = int(rest)
    except ValueError:
        return False
    start = owner.rpartition("/")[2]
    current = _start_time(pid)
    return current is None or (bool(start) and current != start)


# -- rows ---------------------------------------------------------------------------------------

@attrs.frozen
class Lease:
    """One lease row."""

    image_id: str
    kind: str
    owner: str
    expires_at: dt.datetime


def acquire(conn: Connection, image_id: str, kind: str, now: dt.datetime, seconds: float) -> None:
    """Record that this process starts writing ``image_id`` (in the status change's
    transaction; the status compare-and-swap already made this process the only writer)."""
    conn.execute(delete(upload_leases).where(upload_leases.c.image_id == image_id))
    conn.execute(insert(upload_leases).values(
        image_id=image_id, kind=kind, owner=process_owner(),
        expires_at=now + dt.timedelta(seconds=seconds), created_at=now))
    LeaseKeeper.hold(conn.engine, seconds)


def release(conn: Connection, image_id: str, *, checked: bool = True) -> None:
    """Drop the lease of ``image_id`` (its write ended). ``checked``: only this process's own
    lease; Conflict if another process holds it (it took the write over)."""
    table = upload_leases
    if not checked:
        conn.execute(delete(table).where(table.c.image_id == image_id))
        return
    owner = process_owner()
    done = conn.execute(delete(table).where(table.c.image_id == image_id, table.c.owner == owner))
    if done.rowcount == 0:
        holder = conn.execute(select(table.c.owner).where(table.c.image_id == image_id)).first()
        if holder is not None:
            raise errors.Conflict(
                f"The upload of image {image_id} was abandoned and has been recovered.")


def _write(engine: Engine) -> Any:
    conn = engine.connect()
    conn.execution_options(**{WRITE_OPTION: True})
    return conn


def renew(engine: Engine, now: dt.datetime, seconds: float) -> int:
    """Push forward the expiry of every lease this process holds; how many there are."""
    with _write(engine) as conn, conn.begin():
        return int(conn.execute(
            update(upload_leases).where(upload_leases.c.owner == process_owner())
            .values(expires_at=now + dt.timedelta(seconds=seconds))).rowcount)


def abandoned(engine: Engine, now: dt.datetime) -> list[Lease]:
    """Leases whose writer is gone: expired, or owned by a dead process of this host."""
    with engine.connect() as conn, conn.begin():
        rows = conn.execute(select(upload_leases)).all()
    found = []
    for row in rows:
        expires = row.expires_at.replace(tzinfo=None)
        if expires <= now.replace(tzinfo=None) or owner_gone(row.owner):
            found.append(Lease(row.image_id, row.kind, row.owner, row.expires_at))
    return found


def claim(engine: Engine, lease: Lease, now: dt.datetime, seconds: float) -> bool:
    """Take ``lease`` over for this process if it is still exactly as read (one claimer wins)."""
    table = upload_leases
    with _write(engine) as conn, conn.begin():
        return bool(conn.execute(
            update(table).where(table.c.image_id == lease.image_id,
                                table.c.owner == lease.owner,
                                table.c.expires_at == lease.expires_at)
            .values(owner=process_owner(), expires_at=now + dt.timedelta(seconds=seconds))
        ).rowcount == 1)


def drop(engine: Engine, image_id: str) -> None:
    """Delete the lease of ``image_id`` whoever holds it (its image is gone or not written)."""
    with _write(engine) as conn, conn.begin():
        release(conn, image_id, checked=False)


# -- renewal ------------------------------------------------------------------------------------

def utcnow() -> dt.datetime:
    """Now, as the lease columns store it (naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class LeaseKeeper:
    """One daemon thread per process renewing the leases it holds, in every database it took
    one in (engines are held weakly: a disposed engine is forgotten)."""

    _lock = threading.Lock()
    _changed = threading.Condition(_lock)
    _engines: dict[int, tuple[weakref.ref[Engine], float]] = {}
    _thread: threading.Thread | None = None
    _pid = 0

    @classmethod
    def hold(cls, engine: Engine, seconds: float) -> None:
        """Renew this process's leases in ``engine`` from now on, every ``seconds / 3``."""
        with cls._lock:
            cls._engines[id(engine)] = (weakref.ref(engine), seconds)
            if cls._thread is not None and cls._pid == os.getpid() and cls._thread.is_alive():
                cls._changed.notify()  # a shorter lease may need an earlier renewal
                return
            # first lease of this process (after a fork the parent's thread is not here)
            cls._pid = os.getpid()
            cls._thread = threading.Thread(target=cls._run, name="upload-lease-keeper",
                                           daemon=True)
            cls._thread.start()

    @classmethod
    def _interval(cls) -> float:
        """Seconds between renewals: a third of the shortest lease held (lock held)."""
        return min((s for _, s in cls._engines.values()), default=DEFAULT_LEASE_SECONDS) / 3

    @classmethod
    def _run(cls) -> None:
        last = time.monotonic()
        while True:
            with cls._lock:
                # sleep until a third of the shortest lease has passed since the last
                # renewal; a new, shorter lease wakes the thread to shorten the wait
                while (remaining := last + cls._interval() - time.monotonic()) > 0:
                    cls._changed.wait(remaining)
                held = list(cls._engines.items())
            last = time.monotonic()
            for key, (ref, seconds) in held:
                engine = ref()
                if engine is None:
                    with cls._lock:
                        cls._engines.pop(key, None)
                    continue
                try:
                    renew(engine, utcnow(), seconds)
                except Exception:  # the database is down: try again at the next turn
                    LOG.warning("cannot renew the upload leases of this process",
                                exc_info=True)
                engine = None
