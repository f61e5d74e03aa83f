"""``file`` driver: image data as files in one or more local data directories.

Options (names and meaning as in glance_store where they overlap):

``filesystem_store_datadir``
    The directory holding images (default ``/var/lib/glance/images/``).
``filesystem_store_datadirs``
    Several directories, each ``path[:priority]`` (priority 0 by default). A write goes to the
    highest-priority directory with enough free space for the announced size. Mutually exclusive
    with ``filesystem_store_datadir``.
``filesystem_store_file_perm``
    Octal permissions for new image files (e.g. ``640``); 0 keeps the umask default.
``filesystem_store_chunk_size``
    Read chunk size in bytes (default 1 MiB; glance_store's default is 64 KiB).
``filesystem_thin_provisioning``
    Write all-zero chunks as holes (sparse files).
``filesystem_store_fsync``
    fsync each file and its directory before reporting success (default true; ours).
``filesystem_store_direct_io``
    Direct I/O (default false; ours, Linux): image files are written with ``O_DIRECT`` and
    downloads of files that are not in the page cache read them with ``O_DIRECT``, bypassing
    the page cache (see :mod:`glance_store_plugins.drivers.direct_io` for why). Where the file
    system refuses ``O_DIRECT`` (tmpfs, some network file systems), and with thin
    provisioning, files are written and read the ordinary way, with the two options below.
``filesystem_store_warm_cache``
    After a direct write of 4 MiB or more, have the new file read into the page cache by a
    small idle-priority process once no upload to the same data directory is running, on this
    host (default true; ours), so that later downloads are served from the cache. Needs a
    Python executable to start (``sys.executable``); embedded interpreters skip it.
``filesystem_store_write_behind``
    Write-behind for ordinary (not direct) writes (default true; ours, Linux): while a file is
    written, each completed 8 MiB window is handed to the disk (``sync_file_range``), so the
    final fsync has almost nothing left to do.
``filesystem_store_drop_cache``
    With write-behind, also drop each window from the page cache once it is on disk (default
    false; ours). The upload then reuses the same few pages instead of filling the page cache
    with the image: on the 2-CPU VM of docs/benchmarks.md filling *new* page-cache pages cost
    ~1.2 s of kernel time per 512 MiB in 1 MiB writes (~0.2 s since writes go in
    ``WRITE_PIECE`` slices) — but the image's first download is then read from the disk
    (~500 MB/s there instead of ~2 GB/s and more from the cache).
    Off by default so that a freshly uploaded image downloads at page-cache speed.

Writes go to a hidden temporary file in the target directory, are fsynced, then hard-linked to
their final name (which fails if it exists: ``Duplicate``) — a crash or error never leaves a
partial image under its final name. Locations are ``file:///<absolute path>``; a location whose
real path (after resolving ``..`` and symlinks) lies outside the data directories is refused.
Reads return an open file positioned at the offset (``Capability.FILE_READ``), except reads of
at least ``direct_io.DIRECT_READ_MIN`` bytes that are not in the page cache, which come as
chunks read with ``O_DIRECT`` (with direct I/O on).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import attrs

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.drivers import cache_warmer, direct_io
from glance_store_plugins.errors import (
    BackendError,
    ConfigError,
    Duplicate,
    InvalidLocation,
    NotFound,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option

TEMP_SUFFIX = ".partial"


@attrs.frozen
class DataDir:
    """A configured data directory (real path) and its priority."""

    path: str
    priority: int = 0


class FileStore(Store):
    """Stores images as files in local data directories."""

    driver_name = "file"
    schemes = ("file",)
    #: a file URL names any file of the host (another image's data among them)
    restricted_schemes = ("file", "filesystem")
    capabilities = Capability.READ_WRITE | Capability.FILE_READ
    options = {
        opt.name: opt
        for opt in (
            Option(name="filesystem_store_datadir", help="Directory holding image files."),
            Option(name="filesystem_store_datadirs", type=list,
                   help="Several data directories, each 'path[:priority]'."),
            Option(name="filesystem_store_file_perm", type=int, default=0,
                   help="Octal permissions of new image files (0: umask default)."),
            Option(name="filesystem_store_chunk_size", type=int, default=1 << 20,
                   help="Read chunk size in bytes."),
            Option(name="filesystem_thin_provisioning", type=bool, default=False,
                   help="Write all-zero chunks as holes (sparse files)."),
            Option(name="filesystem_store_fsync", type=bool, default=True,
                   help="fsync files and directories before reporting a write done."),
            Option(name="filesystem_store_write_behind", type=bool, default=True,
                   help="Flush written data to disk during the write (Linux; see the module "
                   "documentation)."),
            Option(name="filesystem_store_direct_io", type=bool, default=False,
                   help="Write image files, and read files that are not in the page cache, "
                   "with O_DIRECT (Linux; see the module documentation)."),
            Option(name="filesystem_store_warm_cache", type=bool, default=True,
                   help="After a direct write, have the file read into the page cache by an "
                   "idle-priority process once no upload is running."),
            Option(name="filesystem_store_drop_cache", type=bool, default=False,
                   help="With write-behind, drop written data from the page cache once it is "
                   "on disk: faster uploads, slower first downloads (see the module "
                   "documentation)."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        single, several = conf["filesystem_store_datadir"], conf["filesystem_store_datadirs"]
        if single and several:
            raise ConfigError(
                f"store backend {self.backend!r}: set filesystem_store_datadir or "
                "filesystem_store_datadirs, not both"
            )
        specs = several or [single or "/var/lib/glance/images/"]
        dirs = [self._prepare_dir(spec) for spec in specs]
        self.datadirs: tuple[DataDir, ...] = tuple(
            sorted(dirs, key=lambda d: d.priority, reverse=True)
        )
        if conf["filesystem_store_chunk_size"] <= 0:
            raise ConfigError(f"store backend {self.backend!r}: chunk size must be positive")
        self.read_chunk_size = conf["filesystem_store_chunk_size"]
        try:
            perm = conf["filesystem_store_file_perm"]
            self._perm = int(str(perm), 8) if perm else 0
        except ValueError:
            raise ConfigError(
                f"store backend {self.backend!r}: filesystem_store_file_perm must be octal"
            ) from None
        self._thin = bool(conf["filesystem_thin_provisioning"])
        if self._thin:
            self.capabilities = self.capabilities | Capability.THIN_PROVISIONING
        self._fsync = bool(conf["filesystem_store_fsync"])
        self._write_behind = bool(conf["filesystem_store_write_behind"])
        self._drop_cache = bool(conf["filesystem_store_drop_cache"])
        self._direct_io = bool(conf["filesystem_store_direct_io"]) and hasattr(os, "O_DIRECT")
        self._warm_cache = bool(conf["filesystem_store_warm_cache"])

    def _prepare_dir(self, spec: str) -> DataDir:
        path, priority = spec, 0
        head, sep, tail = spec.rpartition(":")
        if sep and tail.strip().lstrip("-").isdigit():
            path, priority = head, int(tail)
        path = path.strip()
        if not path or not os.path.isabs(path):
            raise ConfigError(
                f"store backend {self.backend!r}: data directory {spec!r} must be an absolute path"
            )
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"store backend {self.backend!r}: cannot create data directory {path}: "
                f"{exc.strerror}"
            ) from None
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise ConfigError(
                f"store backend {self.backend!r}: data directory {path} is not writable"
            )
        return DataDir(os.path.realpath(path), priority)

    # -- locations ----------------------------------------------------------------------------
    def owns(self, location: str) -> bool:
        return self._path_of(location, strict=False) is not None

    def _path_of(self, location: str, *, strict: bool = True) -> str | None:
        """The real path a location names, if it lies inside a data directory."""
        try:
            parts = loc.split(location)
        except InvalidLocation:
            if strict:
                raise
            return None
        path = parts.path
        bad = (
            parts.scheme != "file"
            or parts.netloc not in ("", "localhost")
            or parts.query or parts.fragment
            or not os.path.isabs(path)
            or ".." in path.split("/")
        )
        real = os.path.realpath(path) if not bad else ""
        if not bad and any(real.startswith(d.path + os.sep) for d in self.datadirs):
            return real
        if strict:
            raise InvalidLocation(
                f"location {loc.redact(location)} is outside the data directories"
            )
        return None

    def location_for(self, datadir: DataDir, image_id: str) -> str:
        return "file://" + os.path.join(datadir.path, image_id)

    # -- raw operations -----------------------------------------------------------------------
    def _choose_dir(self, size: int | None) -> DataDir:
        if size is None or len(self.datadirs) == 1:
            return self.datadirs[0]
        for datadir in self.datadirs:
            fs = os.statvfs(datadir.path)
            if fs.f_bavail * fs.f_frsize >= size:
                return datadir
        raise BackendError(
            f"store backend {self.backend!r}: no data directory has {size} bytes free"
        )

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        datadir = self._choose_dir(chunks.size_hint)
        final = os.path.join(datadir.path, image_id)
        if os.path.lexists(final):
            raise Duplicate(f"data for image {image_id} already exists in {self.backend!r}")
        temp = os.path.join(datadir.path, f".{image_id}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        busy = cache_warmer.BusyFlag(datadir.path) if self._direct_io else None
        fd = os.open(temp, flags, 0o666)
        try:
            try:
                with busy.raised() if busy is not None else contextlib.nullcontext():
                    direct = self._write_fd(fd, chunks)
            finally:
                os.close(fd)
            self._publish(temp, final, image_id)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        if self._fsync:
            try:
                _fsync_dir(datadir.path)
            except BaseException:
                # the write fails: its file must not stay under the image's name (a retry
                # would meet Duplicate for data no image points at)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(final)
                raise
        if direct and busy is not None and self._warm_cache and (
                chunks.size >= direct_io.DIRECT_READ_MIN):
            with contextlib.suppress(Exception):  # an optimisation: never fails the write
                cache_warmer.WARMER.warm(final, busy)
        return self.location_for(datadir, image_id)

    def _write_fd(self, fd: int, chunks: HashingChunks) -> bool:
        """Write every chunk to ``fd``; True if the data went to disk with ``O_DIRECT``."""
        if self._direct_io and not self._thin:
            writer = direct_io.DirectWriter(fd)
            try:
                if writer.direct:
                    for chunk in chunks:
                        writer.write(chunk)
                    writer.finish()
                    self._finish_file(fd)
                    return writer.direct_bytes > 0
            finally:
                writer.close()
        self._write_buffered(fd, chunks)
        return False

    def _write_buffered(self, fd: int, chunks: HashingChunks) -> None:
        total = 0
        holes = False
        behind = WriteBehind(fd, drop_cache=self._drop_cache) if self._write_behind else None
        for chunk in chunks:
            total += len(chunk)
            if self._thin:
                holes = _write_sparse(fd, chunk) or holes
            else:
                _write_all(fd, memoryview(chunk))
            if behind is not None and total >= behind.next_window:
                behind.advance(total)
        if holes:
            os.ftruncate(fd, total)
        self._finish_file(fd)

    def _finish_file(self, fd: int) -> None:
        if self._perm:
            os.fchmod(fd, self._perm)
        if self._fsync:
            os.fsync(fd)

    def _publish(self, temp: str, final: str, image_id: str) -> None:
        """Give the finished temporary file its final name, refusing to replace anything."""
        try:
            os.link(temp, final)
        except FileExistsError:
            raise Duplicate(
                f"data for image {image_id} already exists in {self.backend!r}"
            ) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if os.path.lexists(final):  # no hard links here: best-effort check, then rename
                raise Duplicate(
                    f"data for image {image_id} already exists in {self.backend!r}"
                ) from None
            os.rename(temp, final)
            return
        os.unlink(temp)

    def _open(self, location: str) -> int:
        path = self._path_of(location)
        assert path is not None
        try:
            return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no data at {loc.redact(location)}") from None

    def _read(self, location: str, offset: int, length: int) -> BinaryIO | Iterator[bytes]:
        fd = self._open(location)
        if self._direct_io and length >= direct_io.DIRECT_READ_MIN:
            try:
                cold = not direct_io.is_cached(fd, offset, length)
                chunks = direct_io.DirectChunks.wrap(fd, offset, length) if cold else None
            except BaseException:
                os.close(fd)
                raise
            if chunks is not None:  # not in the page cache: read it at disk speed
                return chunks
        file = os.fdopen(fd, "rb", buffering=0)
        try:
            file.seek(offset)
        except BaseException:
            file.close()
            raise
        return file  # type: ignore[return-value]

    def _size(self, location: str) -> int:
        path = self._path_of(location)
        assert path is not None
        try:
            info = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no data at {loc.redact(location)}") from None
        if not _is_regular(info.st_mode):
            raise NotFound(f"no image file at {loc.redact(location)}")
        return info.st_size

    def _delete(self, location: str) -> None:
        path = self._path_of(location)
        assert path is not None
        self._size(location)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise NotFound(f"no data at {loc.redact(location)}") from None

    def _remove_partial(self, image_id: str) -> int:
        """Unlink the temporary files of unfinished writes of ``image_id`` (``.<id>.<random>
        .partial`` in every data directory)."""
        removed = 0
        prefix = f".{image_id}."
        for datadir in self.datadirs:
            with os.scandir(datadir.path) as entries:
                names = [e.name for e in entries
                         if e.name.startswith(prefix) and e.name.endswith(TEMP_SUFFIX)]
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(datadir.path, name))
                    removed += 1
        return removed

    def leftovers(self) -> list[str]:
        """Temporary files of unfinished writes (should always be empty)."""
        found = []
        for datadir in self.datadirs:
            found += [n for n in os.listdir(datadir.path) if n.endswith(TEMP_SUFFIX)]
        return found


#: Write-behind window: data is handed to the disk and dropped from the cache by this much.
WRITE_BEHIND_WINDOW = 8 << 20
_SYNC_FILE_RANGE_WAIT_BEFORE = 1
_SYNC_FILE_RANGE_WRITE = 2
_SYNC_FILE_RANGE_WAIT_AFTER = 4
#: errnos meaning "no write-behind here" (not a pipe or file, unsupported call or file system);
#: any other error is the disk's and fails the write.
_ADVICE_REFUSED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ESPIPE, errno.EOPNOTSUPP,
                             errno.ENOTSUP})


def _load_sync_file_range() -> Any:
    """libc's ``sync_file_range`` (Linux), or None (os has no binding for it)."""
    if not hasattr(os, "posix_fadvise"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    func.restype = ctypes.c_int
    return func


_sync_file_range = _load_sync_file_range()


class WriteBehind:
    """Hands each completed window of a file being written to the disk (and may drop it).

    ``advance(offset)`` (called once ``offset`` reaches ``next_window``) starts writeback of
    every window completed below ``offset`` and, for the window before each of those (whose
    writeback had a whole window's time to run), waits for it and, with ``drop_cache``, drops
    its pages from the page cache: at most two windows of the file stay cached. Advice
    only: if the system refuses it (no ``sync_file_range``, a file system without it), the
    write carries on without it and the final fsync does all the flushing. A disk error it
    reports (EIO, ENOSPC) fails the write: having been reported here, it would not be
    reported again by the final fsync.
    """

    __slots__ = ("drop_cache", "fd", "next_window", "window")

    def __init__(
        self, fd: int, window: int = WRITE_BEHIND_WINDOW, *, drop_cache: bool = False
    ) -> None:
        self.fd = fd
        self.window = window
        self.drop_cache = drop_cache
        # no support: never advance
        self.next_window = window if _sync_file_range is not None else 1 << 62

    def advance(self, offset: int) -> None:
        window = self.window
        try:
            while self.next_window <= offset:
                start = self.next_window - window
                # ctypes releases the GIL for the call: the hashing threads run meanwhile
                self._range(start, window, _SYNC_FILE_RANGE_WRITE)
                if start >= window:
                    previous = start - window
                    self._range(
                        previous, window,
                        _SYNC_FILE_RANGE_WAIT_BEFORE | _SYNC_FILE_RANGE_WRITE
                        | _SYNC_FILE_RANGE_WAIT_AFTER,
                    )
                    if self.drop_cache:
                        os.posix_fadvise(self.fd, previous, window, os.POSIX_FADV_DONTNEED)
                self.next_window += window
        except OSError as exc:
            if exc.errno not in _ADVICE_REFUSED:
                # a writeback error (EIO, ENOSPC...): sync_file_range(WAIT_AFTER) consumed it
                # (Linux advances the fd's error cursor), the final fsync would not see it
                raise
            self.next_window = 1 << 62  # advice refused: leave it to the final fsync

    def _range(self, offset: int, length: int, flags: int) -> None:
        if _sync_file_range(self.fd, offset, length, flags) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))


#: Granularity of hole detection with thin provisioning.
HOLE_BLOCK = 1 << 20
_ZEROS = bytes(HOLE_BLOCK)


#: Largest single ``write()``. The kernel sizes the page-cache folios of a new file by the
#: length of the write: 1 MiB writes get large folios, and on the VM of docs/benchmarks.md
#: (Firecracker, free page reporting) filling fresh large folios costs ~0.7-1.0 s of kernel
#: time per 512 MiB against ~0.2 s in 16 KiB writes (same data, same page cache kept).
WRITE_PIECE = 16 << 10


def _write_all(fd: int, view: memoryview) -> None:
    """Write all of ``view``, in ``WRITE_PIECE`` slices (see there)."""
    piece = WRITE_PIECE
    while view:
        view = view[os.write(fd, view[:piece]):]


def _write_sparse(fd: int, chunk: bytes) -> bool:
    """Write ``chunk``, seeking over all-zero blocks; return whether a hole was made."""
    view = memoryview(chunk)
    size = len(chunk)
    start = 0  # start of the pending run of data to write
    holes = False
    for pos in range(0, size, HOLE_BLOCK):
        end = min(pos + HOLE_BLOCK, size)
        # cheap rejection first: random data rarely starts and ends with a zero byte
        if chunk[pos] or chunk[end - 1] or chunk[pos:end] != _ZEROS[: end - pos]:
            continue
        _write_all(fd, view[start:pos])
        os.lseek(fd, end - pos, os.SEEK_CUR)
        start = end
        holes = True
    _write_all(fd, view[start:])
    return holes


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
