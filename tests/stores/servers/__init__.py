"""Real storage servers started by the test suite on 127.0.0.1 (Ceph, Swift all-in-one).

Each module starts its server from the Debian packages in one temporary directory and removes
it again; ``python3 dev.py test`` installs the packages where they are missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path


class ServerUnavailable(Exception):
    """The server's packages are missing, or it did not start (message says how to fix it)."""


def die_with_parent() -> None:
    """``preexec_fn`` of every server process: Linux kills it when the test process dies, so
    a killed test run leaves no daemon behind (the fixture's own teardown is the normal path)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit (for ``python3 -m`` runs: cleanup code then runs)."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive ports that are all free on 127.0.0.1."""
    for _ in range(50):
        start = free_port()
        if start + count > 65000:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(start, start + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise ServerUnavailable(f"no range of {count} free ports on 127.0.0.1")


def require_programs(programs: Iterable[str], packages: str) -> None:
    """Raise ServerUnavailable naming the Debian packages if a program is missing."""
    missing = [prog for prog in programs if shutil.which(prog) is None]
    if missing:
        raise ServerUnavailable(
            f"{', '.join(missing)} not installed: run `python3 dev.py test` as root on Debian, "
            f"or apt-get install {packages}"
        )


def wait_for(check: Callable[[], bool], what: str, timeout: float,
             procs: Iterable[subprocess.Popen[bytes]] = ()) -> None:
    """Poll ``check`` until true; ServerUnavailable after ``timeout`` or if a process died."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not check():
        for proc in procs:
            if proc.poll() is not None:
                raise ServerUnavailable(f"{what}: {proc.args!r} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise ServerUnavailable(f"{what}: not ready after {timeout} s")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop_all(procs: Iterable[subprocess.Popen[bytes]], pid_dir: Path | None = None,
             grace: float = 10) -> None:
    """Terminate ``procs`` (and any pid recorded in ``pid_dir/*.pid``: only daemons this
    fixture started write there), kill those still running after ``grace`` seconds (at once
    when 0: for servers whose data is thrown away)."""
    procs = list(procs)
    pids = {proc.pid for proc in procs}
    if pid_dir is not None and pid_dir.is_dir():
        for pid_file in pid_dir.glob("*.pid"):
            try:
                pids.add(int(pid_file.read_text().strip()))
            except (OSError, ValueError):
                pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM if grace else signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
