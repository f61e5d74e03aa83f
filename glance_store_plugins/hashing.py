"""One-pass streaming hashing (md5 + a multihash) with a size limit.

:class:`HashingChunks` wraps the caller's chunk iterator. Drivers iterate it like any iterator of
``bytes``; it counts bytes (raising :class:`SizeLimitExceeded` *before* handing over a chunk that
would pass ``max_size``), coalesces small chunks into large ones, and feeds every chunk to md5 and
to the configured multihash.

Why threads: md5 and sha512 each run at roughly 0.8-1.2 GB/s on one core, and together at about
0.4-0.5 GB/s on one thread. hashlib releases the GIL for buffers over 2 KiB, so on a machine with
two or more cores each digest runs on a worker thread of its own, fed from its own queue, while
the calling thread does the driver's I/O. Neither digest waits for the other: each may lag up to
``IN_FLIGHT`` chunks behind the caller before ``next()`` blocks (an earlier per-chunk barrier,
where both digests of chunk N had to finish before chunk N+1 was handed out, left a core idle
whenever one side was briefly slower; see docs/benchmarks.md). Small uploads are hashed
inline: threads only start once more than ``THREAD_THRESHOLD`` bytes have been seen.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from glance_store_plugins.errors import ConfigError, SizeLimitExceeded

#: Chunks smaller than this are joined before hashing/writing (1 MiB measured best; see bench).
COALESCE_SIZE = 1 << 20
#: Chunks a digest thread may lag behind the caller before ``next()`` waits for it.
IN_FLIGHT = 6
#: Hash on worker threads once this many bytes have been seen (and more than one CPU exists).
THREAD_THRESHOLD = 4 << 20


def new_hash(algorithm: str) -> Any:
    """Return a fresh hashlib object for ``algorithm`` or raise ConfigError."""
    if algorithm == "md5":
        return hashlib.md5(usedforsecurity=False)
    try:
        return hashlib.new(algorithm)
    except (ValueError, TypeError):
        raise ConfigError(f"unsupported hashing algorithm {algorithm!r}") from None


def check_algorithm(algorithm: str) -> str:
    """Validate a multihash algorithm name (one with a fixed-length hex digest)."""
    digest = new_hash(algorithm)
    if algorithm.startswith("shake_"):
        raise ConfigError(f"unsupported hashing algorithm {algorithm!r} (variable length)")
    del digest
    return algorithm


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class HashingChunks(Iterator[bytes]):
    """Iterator over the source's data, hashing and size-checking as it goes.

    ``size_hint`` is the caller's announced size (or None): drivers may use it to choose a
    strategy (e.g. S3 multipart). After the iterator is exhausted, ``size``, ``checksum`` and
    ``hash_value`` are final. ``source_error`` is the exception the source raised, if any (the
    store re-raises it untouched rather than blaming the backend).
    """

    def __init__(
        self,
        source: Iterable[bytes],
        *,
        algorithm: str = "sha512",
        max_size: int | None = None,
        size_hint: int | None = None,
        threads: bool | None = None,
        coalesce: int = COALESCE_SIZE,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self._source = iter(source)
        self.algorithm = algorithm
        self.max_size = max_size
        self.size_hint = size_hint
        self.size = 0
        self.finished = False
        self.source_error: BaseException | None = None
        self._md5 = new_hash("md5")
        self._multi = new_hash(algorithm)
        self._coalesce = coalesce
        self._threads = (_cpu_count() > 1) if threads is None else threads
        self._in_flight = in_flight
        self._pools: tuple[_DigestWorker, _DigestWorker] | None = None
        self._closed = False
        self._checksum: str | None = None
        self._hash_value: str | None = None

    # -- iteration ---------------------------------------------------------------------------
    def __iter__(self) -> HashingChunks:
        return self

    def __next__(self) -> bytes:
        if self.finished:
            raise StopIteration
        if self._closed:
            raise RuntimeError("image data iterator is closed: its digests are incomplete")
        chunk = self._fetch()
        if chunk is None:
            self._finish()
            raise StopIteration
        self._hash(chunk)
        return chunk

    def _pull(self) -> bytes | None:
        try:
            raw = next(self._source)
        except StopIteration:
            return None
        except BaseException as exc:
            self.source_error = exc
            raise
        if not isinstance(raw, bytes):
            if not isinstance(raw, bytearray | memoryview):
                raise TypeError(f"image data chunks must be bytes, not {type(raw).__name__}")
            raw = bytes(raw)  # immutable copy: hashed on another thread
        self.size += len(raw)
        if self.max_size is not None and self.size > self.max_size:
            self.close()
            raise SizeLimitExceeded(
                f"image data exceeds the maximum size of {self.max_size} bytes"
            )
        return raw

    def _fetch(self) -> bytes | None:
        """Next non-empty chunk, joining small source chunks up to the coalesce size."""
        first = self._pull()
        while first is not None and not first:
            first = self._pull()
        if first is None or len(first) >= self._coalesce:
            return first
        parts = [first]
        total = len(first)
        while total < self._coalesce:
            more = self._pull()
            if more is None:
                break
            parts.append(more)
            total += len(more)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    # -- hashing -----------------------------------------------------------------------------
    def _hash(self, chunk: bytes) -> None:
        if self._pools is None and self._threads and self.size > THREAD_THRESHOLD:
            self._start_workers()
        if self._pools is None:
            self._md5.update(chunk)
            self._multi.update(chunk)
            return
        for worker in self._pools:
            worker.submit(chunk)

    def _start_workers(self) -> None:
        first = _DigestWorker.start(self._md5, "md5", self._in_flight)
        second = _DigestWorker.start(self._multi, self.algorithm, self._in_flight)
        if first is None or second is None:  # no thread to be had: hash inline
            for worker in (first, second):
                if worker is not None:
                    worker.finish()  # nothing queued yet: just stops it
            self._threads = False
            return
        self._pools = (first, second)

    def _finish(self) -> None:
        pools, self._pools = self._pools, None
        if pools is not None:
            for worker in pools:
                worker.finish()
        self.finished = True
        self._checksum = self._md5.hexdigest()
        self._hash_value = self._multi.hexdigest()

    def close(self) -> None:
        """Stop the worker threads (idempotent); called on completion and on failure. An
        unfinished iterator cannot be iterated further once closed."""
        self._closed = True
        pools, self._pools = self._pools, None
        if pools is not None:
            for worker in pools:
                worker.abandon()

    def __del__(self) -> None:
        # dropped unfinished without close(): the worker threads must not wait forever
        if getattr(self, "_pools", None) is not None:
            self.close()

    @property
    def checksum(self) -> str:
        """md5 hex digest of all data (only after the iterator is exhausted)."""
        if self._checksum is None:
            raise RuntimeError("data not fully consumed")
        return self._checksum

    @property
    def hash_value(self) -> str:
        """Multihash hex digest of all data (only after the iterator is exhausted)."""
        if self._hash_value is None:
            raise RuntimeError("data not fully consumed")
        return self._hash_value


class _DigestWorker:
    """One digest fed on its own thread from a bounded queue of chunks.

    The two digests of an upload (md5 and the multihash) each get a worker, so neither waits
    for the other: a per-chunk barrier between them left a core idle whenever one digest or
    the caller's I/O was briefly slower. ``submit`` blocks only when the worker is
    ``in_flight`` chunks behind (memory stays bounded); ``finish`` waits for the last chunk;
    an exception raised by ``update`` (none is expected from hashlib) is re-raised there.
    """

    __slots__ = ("_digest", "_error", "_queue", "_slots", "_thread")

    def __init__(self, digest: Any, name: str, in_flight: int) -> None:
        self._digest = digest
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._slots = threading.Semaphore(max(1, in_flight))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"hash-{name}", daemon=True)

    @classmethod
    def start(cls, digest: Any, name: str, in_flight: int) -> _DigestWorker | None:
        """A running worker, or None if no thread can be started (the caller hashes inline)."""
        worker = cls(digest, name, in_flight)
        try:
            worker._thread.start()
        except RuntimeError:  # "can't start new thread"
            return None
        return worker

    def _run(self) -> None:
        update, take, release = self._digest.update, self._queue.get, self._slots.release
        while True:
            chunk = take()
            if chunk is None:
                return
            if self._error is None:
                try:
                    update(chunk)
                except BaseException as exc:  # pragma: no cover - hashlib does not raise here
                    self._error = exc
            release()

    def submit(self, chunk: bytes) -> None:
        self._slots.acquire()
        self._queue.put(chunk)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop without hashing the chunks still queued (the digest is no longer wanted)."""
        self._error = self._error or _Abandoned()
        self._queue.put(None)
        self._thread.join()


class _Abandoned(Exception):
    """Marks a worker whose remaining chunks are skipped."""
