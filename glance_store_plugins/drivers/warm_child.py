"""The cache warm-up, run as its own small process (standard library only, started with
``python -I -S <this file> <image path> <flag path> <server pid>``).

It reads the image file through the page cache, 32 MiB at a time, so that later downloads are
served from the cache, and stops when the server process that started it exits. It runs under
``SCHED_IDLE`` in a process of its own: an idle-priority *thread* of a server process would hold
the server's GIL whenever it got to run, and being scheduled last it could keep every request
thread waiting for it (priority inversion). Before each step it waits until no upload holds the
flag (asked with ``F_OFD_GETLK``, never taken: see
:class:`glance_store_plugins.drivers.cache_warmer.BusyFlag`), and it opens the file anew for each
step, so it never keeps a deleted image's disk space in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import sys
import time

STEP_SLICES = 32  # one preadv call: 32 slices of one 1 MiB buffer


#: ``struct flock`` of 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid (and padding).
FLOCK = "hhqqixxxx"


def is_locked(fd: int) -> bool:
    """Whether any open file description holds a lock on ``fd``'s file (asked, not taken:
    ``F_OFD_GETLK`` never blocks anybody, unlike taking a lock to see whether one can)."""
    query = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, query)
    return struct.unpack(FLOCK, answer)[0] != fcntl.F_UNLCK


def wait_lowered(flag_path: str, poll: float = 0.05) -> None:
    """Return once no upload holds ``flag_path`` (at once if there is no usable file)."""
    try:
        fd = os.open(flag_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        while is_locked(fd):
            time.sleep(poll)
    except OSError:
        return
    finally:
        os.close(fd)


def warm(path: str, flag_path: str, parent: int | None = None) -> bool:
    """Read ``path`` to its end through the page cache; False if it went away first, or if
    ``parent`` is given and that process has gone."""
    slices = [bytearray(1 << 20)] * STEP_SLICES
    offset = 0
    while True:
        wait_lowered(flag_path)
        if parent is not None and os.getppid() != parent:
            return False
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            got = os.preadv(fd, slices, offset)
        finally:
            os.close(fd)
        if not got:
            return True
        offset += got


def _die_with_parent(parent: int) -> None:
    """Be stopped (SIGTERM) when the server process that started us exits."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it exited before the request above took effect
        sys.exit(1)


def main(argv: list[str]) -> int:
    parent = int(argv[3]) if len(argv) > 3 else os.getppid()
    _die_with_parent(parent)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        return 0 if warm(argv[1], argv[2], parent=parent) else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
