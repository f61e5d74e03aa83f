"""The cache warm-up, run as its own small process (standard library only, started with
``python -I -S <this file> <image path> <flag path>``).

It reads the image file through the page cache, 32 MiB at a time, so that later downloads are
served from the cache. It runs under ``SCHED_IDLE`` in a process of its own: an idle-priority
*thread* of a server process would hold the server's GIL whenever it got to run, and being
scheduled last it could keep every request thread waiting for it (priority inversion). Before
each step it waits until no upload holds the flag (see
:class:`glance_store_plugins.drivers.direct_io.BusyFlag`), and it opens the file anew for each
step, so it never keeps a deleted image's disk space in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time

STEP_SLICES = 32  # one preadv call: 32 slices of one 1 MiB buffer


def wait_lowered(flag_path: str, poll: float = 0.05) -> None:
    """Return once nobody holds ``flag_path``'s lock (at once if there is no usable file)."""
    try:
        fd = os.open(flag_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(poll)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
    finally:
        os.close(fd)


def warm(path: str, flag_path: str) -> bool:
    """Read ``path`` to its end through the page cache; False if it went away first."""
    slices = [bytearray(1 << 20)] * STEP_SLICES
    offset = 0
    while True:
        wait_lowered(flag_path)
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


def main(argv: list[str]) -> int:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        return 0 if warm(argv[1], argv[2]) else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
