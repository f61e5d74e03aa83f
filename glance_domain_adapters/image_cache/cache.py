"""A directory of cached image files with an SQLite index: the domain's ``ImageCache`` port
plus the management operations of Glance's cache API and commands.

Layout, as Glance's (so an operator finds things where they expect them)::

    <image_cache_dir>/<image id>                 verified copies, served from here
    <image_cache_dir>/incomplete/<id>.<token>    copies being written (never served)
    <image_cache_dir>/invalid/                   (Glance's rejects; only emptied here)
    <image_cache_dir>/queue/<id>                 images queued for the prefetcher
    <image_cache_dir>/cache.db                   the index (image_cache_sqlite_db)

A copy is written under ``incomplete/``, checked (size, md5 when the image has a checksum, its
``os_hash_value`` when it has one), flushed to disk, checked once more against the image as it
is now (``still_current``: not deleted, same data) and only then renamed into place and
recorded; anything else (an error, a download that stops early, a writer that falls behind)
deletes it. A copy is served only while its record matches the image (``CacheKey.fingerprint``)
and the file has the recorded size.

A writer holds an exclusive ``flock`` on its ``incomplete/`` file for as long as it writes, so a
fill in progress in any process is told from one abandoned by a killed worker (whose lock the
kernel released): an abandoned file is deleted and the image filled again at once.

The management operations raise :class:`CacheUnavailable` (the domain's ``ServiceUnavailable``)
for a database or file-system error, so the API answers 503 rather than an unexpected error.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from glance_domain.errors import ServiceUnavailable
from glance_domain.ports import CacheKey, DataStream
from glance_domain_adapters.image_cache.index import FAST_TIMEOUT, CacheIndex

LOG = logging.getLogger(__name__)

READ_CHUNK = 1 << 20
#: Bytes a download may run ahead of its cache writer before the copy is abandoned (the
#: download is never made to wait for the cache).
TEE_BUFFER = 64 << 20
#: A background writer that receives nothing for this long gives up (a stream never closed).
WRITER_IDLE_TIMEOUT = 600.0
DRIVERS = ("centralized_db", "sqlite", "xattr")


P = ParamSpec("P")
T = TypeVar("T")


class InvalidImageId(ValueError):
    """Not an image id (Glance's ids are UUIDs, lower case with dashes): it never names a
    file of the cache (not the index, not a subdirectory)."""


class CacheUnavailable(ServiceUnavailable):
    """The cache's index or directory cannot be used right now (a database or disk error)."""


def _check_id(image_id: str) -> str:
    try:
        canonical = str(uuid.UUID(image_id))
    except (ValueError, TypeError, AttributeError):
        raise InvalidImageId(image_id) from None
    if canonical != image_id:
        raise InvalidImageId(image_id)
    return image_id


def _management(method: Callable[P, T]) -> Callable[P, T]:
    """A database or file-system error of a management operation -> CacheUnavailable."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            LOG.warning("image cache: %s failed", method.__name__, exc_info=True)
            raise CacheUnavailable(f"The image cache is unavailable: {exc}") from exc

    return wrapper


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of a fill's file; False when a live writer holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _abandoned(path: str) -> bool:
    """Whether the fill writing ``path`` is gone (its lock free): the file is then deleted.
    False for a live fill or a file that no longer exists."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        if not _try_lock(fd):
            return False
        LOG.info("image cache: removing %s, left by a fill that was stopped", path)
        _unlink(path)
        return True
    finally:
        os.close(fd)


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


class FileImageCache:
    """The image cache in ``directory`` (created with its subdirectories if missing).

    ``max_size`` is the pruning target in bytes; ``stall_time`` the age (seconds) after which
    ``clean`` removes an unfinished copy; ``driver`` only selects the shape of listed records
    (Glance's ``image_cache_driver``; all of them use this directory and index);
    ``node_url`` is this host's URL (``worker_self_reference_url``) for ``cached_nodes``.
    """

    def __init__(self, directory: str, *, max_size: int = 10 << 30, stall_time: int = 86400,
                 driver: str = "centralized_db", db_name: str = "cache.db",
                 node_url: str | None = None, tee_buffer: int = TEE_BUFFER) -> None:
        self.directory = os.path.abspath(directory)
        self.max_size = max_size
        self.stall_time = stall_time
        self.driver = driver
        self.node_url = node_url
        self.tee_buffer = tee_buffer
        self.incomplete_dir = os.path.join(self.directory, "incomplete")
        self.invalid_dir = os.path.join(self.directory, "invalid")
        self.queue_dir = os.path.join(self.directory, "queue")
        for path in (self.directory, self.incomplete_dir, self.invalid_dir, self.queue_dir):
            os.makedirs(path, exist_ok=True)
        self.db_path = os.path.join(self.directory, db_name)
        self._db_names = {db_name, db_name + "-wal", db_name + "-shm", db_name + "-journal"}
        self.index = CacheIndex(self.db_path)
        self._copier: ThreadPoolExecutor | None = None
        self._copier_lock = threading.Lock()

    # -- paths ------------------------------------------------------------------------------
    def path_of(self, image_id: str) -> str:
        return os.path.join(self.directory, _check_id(image_id))

    def _queue_path(self, image_id: str) -> str:
        return os.path.join(self.queue_dir, _check_id(image_id))

    def _cache_files(self) -> Iterator[tuple[str, os.stat_result]]:
        """(image id, stat) of the files in the cache directory (not the index)."""
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name in self._db_names or entry.name.startswith("."):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        yield entry.name, entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue

    def _filling(self, image_id: str) -> list[str]:
        prefix = image_id + "."
        return [os.path.join(self.incomplete_dir, name)
                for name in os.listdir(self.incomplete_dir) if name.startswith(prefix)]

    def _live_fill(self, image_id: str) -> bool:
        """Whether a writer (of any process) is filling the image; files of abandoned fills
        are deleted on the way."""
        return any(not _abandoned(path) and os.path.exists(path)
                   for path in self._filling(image_id))

    # -- the domain's port ------------------------------------------------------------------
    def open(self, key: CacheKey, offset: int, length: int) -> DataStream | None:
        entry = self.index.get(key.image_id, timeout=FAST_TIMEOUT)
        if entry is None:
            return None
        if entry.fingerprint != key.fingerprint or entry.size != key.size:
            LOG.info("image cache: dropping the copy of image %s (the image's data changed)",
                     key.image_id)
            self._drop(key.image_id)
            return None
        try:
            fd = os.open(self.path_of(key.image_id), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, InvalidImageId):
            self._drop(key.image_id)
            return None
        file = os.fdopen(fd, "rb", buffering=0)
        try:
            if os.fstat(fd).st_size != key.size:
                LOG.warning("image cache: the copy of image %s has the wrong size; dropped",
                            key.image_id)
                file.close()
                self._drop(key.image_id)
                return None
            file.seek(offset)
            self.index.hit(key.image_id)  # best-effort, never waits long
        except BaseException:
            file.close()
            raise
        LOG.debug("image cache: hit for image %s", key.image_id)
        return DataStream(chunks=_file_chunks(file, length), length=length, file=file)

    def _drop(self, image_id: str) -> None:
        """Delete a copy found unusable on the download path (best-effort, no waiting)."""
        try:
            _unlink(self.path_of(image_id))
            self.index.delete(image_id, timeout=FAST_TIMEOUT)
        except (sqlite3.Error, OSError, InvalidImageId):
            LOG.warning("image cache: cannot drop the copy of image %s", image_id,
                        exc_info=True)

    def contains(self, key: CacheKey) -> bool:
        entry = self.index.get(key.image_id)
        return (entry is not None and entry.fingerprint == key.fingerprint
                and os.path.isfile(self.path_of(key.image_id)))

    def fill(self, key: CacheKey, stream: DataStream, *, inline: bool = False,
             still_current: Callable[[], bool] | None = None) -> DataStream:
        try:
            writer = self._writer(key, still_current)
        except Exception:
            LOG.warning("image cache: cannot start caching image %s", key.image_id,
                        exc_info=True)
            return stream
        if writer is None:
            return stream
        if inline:
            tee: _InlineTee | _BackgroundTee = _InlineTee(writer)
        elif stream.file is not None:
            return self._fill_from_file(writer, stream)
        else:
            tee = _BackgroundTee(writer, self.tee_buffer)
        stream.chunks = _TeeChunks(stream.chunks, tee)
        stream.on_close.append(lambda sent: tee.finish())
        return stream

    def evict(self, image_id: str) -> None:
        try:
            _check_id(image_id)
        except InvalidImageId:
            return
        for path in self._filling(image_id):  # an unfinished copy can no longer be committed
            _unlink(path)
        self.delete_cached(image_id)
        self.delete_queued(image_id)

    def _writer(self, key: CacheKey,
                still_current: Callable[[], bool] | None = None) -> _Writer | None:
        _check_id(key.image_id)
        if self._live_fill(key.image_id):
            return None  # another download or the prefetcher is copying it
        path = os.path.join(self.incomplete_dir, f"{key.image_id}.{secrets.token_hex(8)}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held until the fd is closed
        except BaseException:
            os.close(fd)
            _unlink(path)
            raise
        return _Writer(self, key, fd, path, still_current)

    def _fill_from_file(self, writer: _Writer, stream: DataStream) -> DataStream:
        """The store gave a local file, which the server may send with zero copy: leave the
        download alone and copy the file once it has been sent in full."""
        assert stream.file is not None
        try:
            source = os.dup(stream.file.fileno())
        except (OSError, AttributeError, ValueError):
            writer.discard()
            return stream
        start = stream.file.tell()

        def sent(count: int) -> None:
            if count != writer.key.size:
                os.close(source)
                writer.discard()
                return
            self._copy_pool().submit(_copy_file, source, start, writer)

        stream.on_close.append(sent)
        return stream

    def _copy_pool(self) -> ThreadPoolExecutor:
        with self._copier_lock:
            if self._copier is None:
                self._copier = ThreadPoolExecutor(1, thread_name_prefix="image-cache-fill")
            return self._copier

    def _commit(self, key: CacheKey, path: str,
                still_current: Callable[[], bool] | None = None) -> bool:
        """Move a verified copy into place, unless its image was deleted or changed meanwhile
        (``still_current``, asked before and once more after: an image deleted in between
        has its eviction run either before the rename, which then fails, or after it)."""
        if still_current is not None and not still_current():
            LOG.info("image cache: image %s was deleted or changed while it was being cached; "
                     "not cached", key.image_id)
            _unlink(path)
            return False
        os.rename(path, self.path_of(key.image_id))  # FileNotFoundError if evicted meanwhile
        self.index.put(key.image_id, key.fingerprint, key.checksum, key.size)
        if still_current is not None and not still_current():
            LOG.info("image cache: image %s was deleted or changed while it was being cached; "
                     "copy removed", key.image_id)
            self.delete_cached(key.image_id)
            return False
        _unlink(self._queue_path(key.image_id))
        LOG.info("image cache: image %s cached (%d bytes)", key.image_id, key.size)
        return True

    def wait(self) -> None:
        """Wait for background copies started so far (tests, command-line tools)."""
        with self._copier_lock:
            pool, self._copier = self._copier, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- management (the cache API, the command line) ---------------------------------------
    @_management
    def cached_images(self) -> list[dict[str, Any]]:
        """Records of the cached images, by image id, in the shape of Glance's driver."""
        records = []
        for entry in self.index.all():
            record: dict[str, Any] = {
                "image_id": entry.image_id, "hits": entry.hits,
                "last_accessed": entry.last_accessed, "last_modified": entry.last_modified,
                "size": entry.size,
            }
            if self.driver == "centralized_db":
                record = {"id": entry.id, **record, "checksum": entry.checksum}
            records.append(record)
        return records

    @_management
    def queued_images(self) -> list[str]:
        """Queued image ids, oldest first."""
        items = []
        for name in os.listdir(self.queue_dir):
            try:
                items.append((os.path.getmtime(os.path.join(self.queue_dir, name)), name))
            except FileNotFoundError:
                continue
        return [name for _, name in sorted(items)]

    @_management
    def is_cached(self, image_id: str) -> bool:
        """Whether the index records a copy (only the index: never any other file)."""
        return self.index.get(_check_id(image_id)) is not None

    @_management
    def is_queued(self, image_id: str) -> bool:
        return os.path.exists(self._queue_path(image_id))

    @_management
    def queue(self, image_id: str) -> bool:
        """Queue an image for the prefetcher (False when it is cached, being cached or
        already queued)."""
        if self.is_cached(image_id) or self._live_fill(image_id) or self.is_queued(image_id):
            return False
        with open(self._queue_path(image_id), "w"):
            pass
        return True

    @_management
    def delete_cached(self, image_id: str) -> bool:
        removed = _unlink(self.path_of(image_id))
        self.index.delete(image_id)
        return removed

    @_management
    def delete_queued(self, image_id: str) -> bool:
        return _unlink(self._queue_path(image_id))

    @_management
    def clear_cached(self) -> int:
        """Delete every cached copy; the number of files deleted."""
        count = 0
        for image_id, _ in list(self._cache_files()):
            if self.delete_cached(image_id):
                count += 1
        for entry in self.index.all():
            self.index.delete(entry.image_id)
        return count

    @_management
    def clear_queued(self) -> int:
        count = 0
        for name in os.listdir(self.queue_dir):
            if _unlink(os.path.join(self.queue_dir, name)):
                count += 1
        return count

    def size(self) -> int:
        """Bytes used by the cached copies."""
        return sum(info.st_size for _, info in self._cache_files())

    @_management
    def prune(self, max_size: int | None = None) -> tuple[int, int]:
        """Delete copies, least recently used first, until the cache is at most ``max_size``
        (default ``image_cache_max_size``) bytes; (files deleted, bytes freed)."""
        limit = self.max_size if max_size is None else max_size
        current = self.size()
        files = freed = 0
        if current <= limit:
            return 0, 0
        for entry in self.index.least_recently_used():
            if current <= limit:
                break
            try:
                size = os.stat(self.path_of(entry.image_id)).st_size
            except (FileNotFoundError, InvalidImageId):
                size = 0
            LOG.info("image cache: pruning image %s (%d bytes)", entry.image_id, size)
            self.delete_cached(entry.image_id)
            files += 1
            freed += size
            current -= size
        return files, freed

    @_management
    def clean(self, stall_time: int | None = None,
              is_stale: Callable[[str, str], bool] | None = None) -> dict[str, int]:
        """Delete invalid copies, unfinished copies whose writer is gone or that were left
        for longer than ``stall_time`` seconds (default ``image_cache_stall_time``), records
        without a file, files without a record (older than a minute: a copy being committed
        has its file first) and, given ``is_stale(image_id, fingerprint)``, copies it says
        no longer belong to an image (deleted, or its data changed)."""
        older_than = time.time() - (self.stall_time if stall_time is None else stall_time)
        removed = {"invalid": 0, "stalled": 0, "orphaned": 0, "stale": 0}
        for name in os.listdir(self.invalid_dir):
            if _unlink(os.path.join(self.invalid_dir, name)):
                removed["invalid"] += 1
        for name in os.listdir(self.incomplete_dir):
            path = os.path.join(self.incomplete_dir, name)
            try:
                stalled = os.path.getmtime(path) < older_than
            except FileNotFoundError:
                continue
            if stalled and _unlink(path):
                LOG.info("image cache: removed stalled file %s", path)
                removed["stalled"] += 1
            elif not stalled and _abandoned(path):
                removed["stalled"] += 1
        entries = self.index.all()
        if is_stale is not None:
            for entry in entries:
                if is_stale(entry.image_id, entry.fingerprint):
                    LOG.info("image cache: removing the copy of image %s (deleted, or its "
                             "data changed)", entry.image_id)
                    self.delete_cached(entry.image_id)
                    removed["stale"] += 1
            entries = self.index.all()
        known = {entry.image_id for entry in entries}
        on_disk = dict(self._cache_files())
        for image_id in known - on_disk.keys():
            self.index.delete(image_id)
            removed["orphaned"] += 1
        for image_id, info in on_disk.items():
            if image_id not in known and info.st_mtime < time.time() - 60:
                _unlink(os.path.join(self.directory, image_id))
                removed["orphaned"] += 1
        return removed

    @_management
    def cached_nodes(self, image_id: str) -> list[str]:
        """URLs of the hosts holding a copy: this host's ``node_url`` when it does."""
        if self.node_url and self.index.get(image_id) is not None:
            return [self.node_url]
        return []


def _file_chunks(file: Any, length: int) -> Iterator[bytes]:
    left = length
    while left > 0:
        chunk = file.read(min(READ_CHUNK, left))
        if not chunk:
            raise OSError("the cached copy ended early")
        left -= len(chunk)
        yield chunk


class _Writer:
    """Writes one copy into ``incomplete/``, then verifies and commits it (or deletes it)."""

    def __init__(self, cache: FileImageCache, key: CacheKey, fd: int, path: str,
                 still_current: Callable[[], bool] | None = None) -> None:
        self.cache = cache
        self.key = key
        self.fd: int | None = fd
        self.path = path
        self.still_current = still_current
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash: Any = None
        if key.os_hash_value and key.os_hash_algo:
            try:
                self.multihash = hashlib.new(key.os_hash_algo)
            except ValueError:
                LOG.debug("image cache: hash %s unknown here; image %s checked without it",
                          key.os_hash_algo, key.image_id)
        self.written = 0
        self.failed = False

    def write(self, chunk: bytes) -> None:
        if self.failed or self.fd is None:
            return
        try:
            view = memoryview(chunk)
            while view:
                done = os.write(self.fd, view)
                view = view[done:]
            self.md5.update(chunk)
            if self.multihash is not None:
                self.multihash.update(chunk)
            self.written += len(chunk)
        except Exception:
            LOG.warning("image cache: cannot write the copy of image %s", self.key.image_id,
                        exc_info=True)
            self.failed = True

    def commit(self) -> bool:
        key = self.key
        if self.failed or self.fd is None:
            self.discard()
            return False
        if self.written != key.size:
            LOG.warning("image cache: image %s: got %d bytes of %d; not cached", key.image_id,
                        self.written, key.size)
            self.discard()
            return False
        if key.checksum and self.md5.hexdigest() != key.checksum:
            LOG.error("image cache: checksum verification failed; aborted caching of image %s",
                      key.image_id)
            self.discard()
            return False
        if self.multihash is not None and self.multihash.hexdigest() != key.os_hash_value:
            LOG.error("image cache: %s verification failed; aborted caching of image %s",
                      key.os_hash_algo, key.image_id)
            self.discard()
            return False
        try:
            os.fdatasync(self.fd)
            committed = self.cache._commit(key, self.path, self.still_current)
        except FileNotFoundError:  # evicted while it was being written
            self.discard()
            return False
        except Exception:
            LOG.warning("image cache: cannot commit the copy of image %s", key.image_id,
                        exc_info=True)
            self.discard()
            return False
        self.discard()  # closes the file (and releases its lock); it was moved into place
        return committed

    def discard(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None
        _unlink(self.path)


class _InlineTee:
    """Writes in the consuming thread (the prefetcher)."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.done = False

    def feed(self, chunk: bytes) -> None:
        self.writer.write(chunk)

    def finish(self) -> None:
        if not self.done:
            self.done = True
            self.writer.commit()


_DONE = object()


class _BackgroundTee:
    """Hands chunks to a writer thread; a download that runs ``limit`` bytes ahead of it
    abandons the copy instead of waiting."""

    def __init__(self, writer: _Writer, limit: int) -> None:
        self.writer = writer
        self.limit = limit
        self.pending = 0
        self.fed = 0
        self.dead = False
        self.done = False
        self.lock = threading.Lock()
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="image-cache-tee", daemon=True)
        self.thread.start()

    def feed(self, chunk: bytes) -> None:
        if self.dead:
            return
        size = len(chunk)
        with self.lock:
            if self.pending + size > self.limit:
                LOG.info("image cache: the download of image %s outran its copy; not cached",
                         self.writer.key.image_id)
                self.dead = True
                self.queue.put(None)
                return
            self.pending += size
        self.fed += size
        self.queue.put(bytes(chunk) if not isinstance(chunk, bytes) else chunk)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        complete = not self.dead and self.fed == self.writer.key.size
        self.queue.put(_DONE if complete else None)

    def _run(self) -> None:
        writer = self.writer
        try:
            while True:
                try:
                    item = self.queue.get(timeout=WRITER_IDLE_TIMEOUT)
                except queue.Empty:
                    item = None
                if item is None:
                    writer.discard()
                    return
                if item is _DONE:
                    writer.commit()
                    return
                writer.write(item)
                with self.lock:
                    self.pending -= len(item)
        except BaseException:
            writer.discard()
            raise


class _TeeChunks:
    """``chunks`` passed through unchanged, each also fed to ``tee``."""

    def __init__(self, chunks: Iterator[bytes], tee: _InlineTee | _BackgroundTee) -> None:
        self.chunks = chunks
        self.tee = tee

    def __iter__(self) -> _TeeChunks:
        return self

    def __next__(self) -> bytes:
        chunk = next(self.chunks)
        self.tee.feed(chunk)
        return chunk

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def _copy_file(source: int, start: int, writer: _Writer) -> None:
    """Copy ``writer.key.size`` bytes of the open file ``source`` from ``start`` (then close
    it) and commit the copy."""
    try:
        offset, left = start, writer.key.size
        while left > 0 and not writer.failed:
            chunk = os.pread(source, min(READ_CHUNK, left), offset)
            if not chunk:
                break
            writer.write(chunk)
            offset += len(chunk)
            left -= len(chunk)
        writer.commit()
    except Exception:
        LOG.warning("image cache: cannot copy image %s", writer.key.image_id, exc_info=True)
        writer.discard()
    finally:
        os.close(source)
