"""Putting newly written image files into the page cache after the upload, off its path.

* :class:`BusyFlag` - a host-wide "uploads are running" flag per data directory.
* :class:`CacheWarmer` - after a direct write (:mod:`~glance_store_plugins.drivers.direct_io`),
  has the new file read into the page cache by a small idle-priority process
  (:mod:`~glance_store_plugins.drivers.warm_child`) once no upload is running, so later
  downloads are served from the cache (``sendfile``) without the upload having paid for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import struct
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator

from glance_store_plugins.drivers import warm_child


class BusyFlag:
    """A host-wide "uploads are running" flag for one data directory.

    Each direct write holds a shared (read) open-file-description lock on the flag file while it
    runs (any number at once, from any process of the same user: gunicorn workers, other API
    processes on the machine); the warm-up only *asks* whether a lock is held (``F_OFD_GETLK``)
    before each step of its reading, and waits while one is. Filling page-cache pages is what
    the warm-up costs, and on a virtual machine that slowed every other vCPU even from an
    idle-priority thread (a 1 GiB store write ran at ~400 MB/s beside a warm-up instead of
    ~650 MB/s), so it should not overlap uploads.

    Best effort, and never in an upload's way: the lock is taken without waiting (if it cannot
    be had, the upload goes on without it), and the flag file lives in a directory private to
    this user (``<temp dir>/glance-domain-<uid>``, mode 0700, checked), one file per data
    directory (device and inode), so no other user can hold or replace it.
    """

    def __init__(self, directory: str) -> None:
        info = os.stat(directory)
        self.path = os.path.join(
            _private_dir(), f"uploads-{info.st_dev:x}-{info.st_ino:x}.lock"
        )

    def _open(self) -> int | None:
        """The flag file, opened (and created) safely; None if that is not possible."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                         | os.O_NONBLOCK, 0o600)
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            os.close(fd)
            return None
        return fd

    @contextlib.contextmanager
    def raised(self) -> Iterator[None]:
        """Hold the flag (shared) for the duration of the ``with`` block, if it can be had at
        once; the block runs either way."""
        fd = self._open()
        if fd is not None:
            request = struct.pack(warm_child.FLOCK, fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
            try:
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
            except (OSError, AttributeError):
                os.close(fd)
                fd = None
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock

    def wait_lowered(self, poll: float = 0.05) -> None:
        """Return once no upload holds the flag (at once if there is no usable flag file)."""
        warm_child.wait_lowered(self.path, poll)


def _private_dir() -> str:
    """``<temp dir>/glance-domain-<uid>``, created 0700; the temp dir itself if it is not ours
    (then the flag file's own checks refuse anything another user made)."""
    path = os.path.join(tempfile.gettempdir(), f"glance-domain-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    try:
        info = os.lstat(path)
    except OSError:
        return tempfile.gettempdir()
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & 0o077):
        return tempfile.gettempdir()
    return path


#: The warm-up program, run by path with ``python -I -S`` (standard library only).
_WARM_CHILD = os.path.abspath(warm_child.__file__)


def _python() -> str | None:
    """This interpreter's executable, if it is one (embedded, e.g. in uwsgi, it is not)."""
    executable = sys.executable or ""
    return executable if os.path.basename(executable).startswith("python") else None


class CacheWarmer:
    """Has files read into the page cache, one at a time, each by a short-lived process.

    ``warm(path, busy)`` queues a file and returns at once. A thread of this process takes the
    *newest* file first (the image just uploaded is the one most likely to be downloaded next)
    and runs :mod:`~glance_store_plugins.drivers.warm_child` for it at idle CPU priority, which
    reads only while ``busy`` (a :class:`BusyFlag`) is lowered; a newer file stops the warm-up
    of an older one, which goes back in the queue behind it. At most ``max_pending`` files
    wait (the oldest are dropped: warming is only an optimisation). The thread just waits for
    the child, so no idle-priority code ever holds this process's GIL. Without a Python
    executable to run (an embedded interpreter), nothing is warmed.
    """

    def __init__(self, max_pending: int = 8) -> None:
        self._pending: deque[tuple[str, BusyFlag]] = deque(maxlen=max_pending)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._busy = False  # a file is being handled
        self._preempted = False  # the running child was stopped for a newer file
        self._arrivals = 0  # files queued so far (tells a newer file from older ones)
        self.warmed = 0  # files read to the end (for tests and curiosity)
        #: (path, child's return code or None if none started), newest last (for diagnosis)
        self.outcomes: deque[tuple[str, int | None]] = deque(maxlen=64)

    def warm(self, path: str, busy: BusyFlag) -> None:
        if _python() is None:
            return
        with self._changed:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="file-store-cache-warmer", daemon=True
                )
                self._thread.start()
            self._pending.append((path, busy))
            self._arrivals += 1
            if self._child is not None and self._child.poll() is None:
                self._preempted = True
                with contextlib.suppress(OSError):
                    self._child.terminate()  # the newer file goes first
            self._changed.notify_all()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued file has been handled; False on timeout (for tests)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                path, busy = self._pending.pop()  # newest first
                self._busy = True
                arrivals = self._arrivals
            returncode = None
            try:
                returncode = self._warm(path, busy, arrivals)
                if returncode == 0:
                    self.warmed += 1
            finally:
                with self._changed:
                    self.outcomes.append((path, returncode))
                    self._child = None
                    if self._preempted and returncode is not None and returncode != 0 and (
                            len(self._pending) < (self._pending.maxlen or 1)):
                        self._pending.appendleft((path, busy))  # stopped for a newer file
                    self._preempted = False
                    self._busy = False
                    self._changed.notify_all()

    def _warm(self, path: str, busy: BusyFlag, arrivals: int) -> int | None:
        """Run the warm-up child for ``path`` (taken when ``arrivals`` files had been queued);
        its return code, or None if none could be started."""
        python = _python()
        if python is None:
            return None
        try:
            child = subprocess.Popen(
                [python, "-I", "-S", _WARM_CHILD, path, busy.path, str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None  # could not start the child: nothing is warmed, nothing breaks
        with self._changed:
            self._child = child
            stale = self._arrivals != arrivals  # a newer file arrived while starting
            self._preempted = self._preempted or stale
        if stale:
            with contextlib.suppress(OSError):
                child.terminate()
        return child.wait()


#: The process's warmer (a forked child gets a fresh one: threads do not survive a fork).
WARMER = CacheWarmer()


def _reset_after_fork() -> None:
    global WARMER
    WARMER = CacheWarmer()


os.register_at_fork(after_in_child=_reset_after_fork)
