"""The image cache's index: one SQLite file in the cache directory.

One row per cached image (what it must match to be served, its size, hit count and access
times), shared by every process on the host that uses the directory. SQLite, as Glance's
``sqlite`` driver: it needs nothing else installed, survives crashes (each change is one
transaction) and several processes can use it at once (WAL journal, busy timeout). Each call
opens its own connection, so the index is safe to use from any thread.

The table is created again whenever it is missing (the file deleted behind the index's back),
so the index heals itself. Calls wait at most ``TIMEOUT`` seconds for another connection's
write lock; the download path passes a much shorter ``timeout`` (``FAST_TIMEOUT``), and
``hit`` is best-effort: a hit is never made to wait for the bookkeeping.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import attrs

LOG = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a call waits for another connection's write lock (management, commits).
TIMEOUT = 5.0
#: The same on the download path (``get`` of a hit, ``hit``): the store is used instead.
FAST_TIMEOUT = 0.1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    image_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    checksum TEXT,
    size INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    last_accessed REAL NOT NULL,
    last_modified REAL NOT NULL
)
"""


@attrs.frozen(kw_only=True)
class Entry:
    """One cached image, as recorded."""

    id: int
    image_id: str
    fingerprint: str
    checksum: str | None
    size: int
    hits: int
    last_accessed: float
    last_modified: float


class CacheIndex:
    """The ``cache_entries`` table of the SQLite file at ``path`` (created on first use)."""

    def __init__(self, path: str) -> None:
        self.path = path
        with self._connect(TIMEOUT) as db:
            self._create(db)

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self, timeout: float) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            # WAL stays crash-safe with NORMAL; a hit count lost on power loss does not matter
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    def _run(self, work: Callable[[sqlite3.Connection], T], timeout: float = TIMEOUT) -> T:
        """``work`` on a new connection; the table is created again if it has gone."""
        with self._connect(timeout) as db:
            try:
                return work(db)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                LOG.warning("image cache: the index %s had lost its table; created again",
                            self.path)
                self._create(db)
                return work(db)

    def get(self, image_id: str, *, timeout: float = TIMEOUT) -> Entry | None:
        row = self._run(lambda db: db.execute(
            "SELECT rowid, * FROM cache_entries WHERE image_id = ?", (image_id,)).fetchone(),
            timeout)
        return Entry(**dict(zip(_FIELDS, row, strict=True))) if row else None

    def all(self) -> list[Entry]:
        """Every entry, by image id."""
        rows = self._run(lambda db: db.execute(
            "SELECT rowid, * FROM cache_entries ORDER BY image_id").fetchall())
        return [Entry(**dict(zip(_FIELDS, row, strict=True))) for row in rows]

    def least_recently_used(self) -> list[Entry]:
        """Every entry, least recently accessed first."""
        rows = self._run(lambda db: db.execute(
            "SELECT rowid, * FROM cache_entries ORDER BY last_accessed, image_id").fetchall())
        return [Entry(**dict(zip(_FIELDS, row, strict=True))) for row in rows]

    def put(self, image_id: str, fingerprint: str, checksum: str | None, size: int) -> None:
        now = time.time()
        self._run(lambda db: db.execute(
            "INSERT OR REPLACE INTO cache_entries (image_id, fingerprint, checksum, size, hits, "
            "last_accessed, last_modified) VALUES (?, ?, ?, ?, 0, ?, ?)",
            (image_id, fingerprint, checksum, size, now, now)))

    def hit(self, image_id: str) -> None:
        """Count a hit, best-effort: waits at most ``FAST_TIMEOUT`` for the write lock and
        gives up (logged) on any database error."""
        try:
            self._run(lambda db: db.execute(
                "UPDATE cache_entries SET hits = hits + 1, last_accessed = ? "
                "WHERE image_id = ?", (time.time(), image_id)), FAST_TIMEOUT)
        except sqlite3.Error as exc:
            LOG.debug("image cache: hit of image %s not recorded: %s", image_id, exc)

    def delete(self, image_id: str, *, timeout: float = TIMEOUT) -> None:
        self._run(lambda db: db.execute("DELETE FROM cache_entries WHERE image_id = ?",
                                        (image_id,)), timeout)


_FIELDS = ("id", "image_id", "fingerprint", "checksum", "size", "hits", "last_accessed",
           "last_modified")
