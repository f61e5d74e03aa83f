"""The image cache's index: one SQLite file in the cache directory.

One row per cached image (what it must match to be served, its size, hit count and access
times), shared by every process on the host that uses the directory. SQLite, as Glance's
``sqlite`` driver: it needs nothing else installed, survives crashes (each change is one
transaction) and several processes can use it at once (WAL journal, busy timeout). Each call
opens its own connection, so the index is safe to use from any thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator

import attrs

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
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def get(self, image_id: str) -> Entry | None:
        with self._connect() as db:
            row = db.execute("SELECT rowid, * FROM cache_entries WHERE image_id = ?",
                             (image_id,)).fetchone()
        return Entry(**dict(zip(_FIELDS, row, strict=True))) if row else None

    def all(self) -> list[Entry]:
        """Every entry, by image id."""
        with self._connect() as db:
            rows = db.execute("SELECT rowid, * FROM cache_entries ORDER BY image_id").fetchall()
        return [Entry(**dict(zip(_FIELDS, row, strict=True))) for row in rows]

    def least_recently_used(self) -> list[Entry]:
        """Every entry, least recently accessed first."""
        with self._connect() as db:
            rows = db.execute("SELECT rowid, * FROM cache_entries "
                              "ORDER BY last_accessed, image_id").fetchall()
        return [Entry(**dict(zip(_FIELDS, row, strict=True))) for row in rows]

    def put(self, image_id: str, fingerprint: str, checksum: str | None, size: int) -> None:
        now = time.time()
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO cache_entries (image_id, fingerprint, checksum, "
                       "size, hits, last_accessed, last_modified) VALUES (?, ?, ?, ?, 0, ?, ?)",
                       (image_id, fingerprint, checksum, size, now, now))

    def hit(self, image_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE cache_entries SET hits = hits + 1, last_accessed = ? "
                       "WHERE image_id = ?", (time.time(), image_id))

    def delete(self, image_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM cache_entries WHERE image_id = ?", (image_id,))


_FIELDS = ("id", "image_id", "fingerprint", "checksum", "size", "hits", "last_accessed",
           "last_modified")
