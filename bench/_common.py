"""Shared helpers of the benchmarks: this machine's limits, measured in the same run.

* :func:`hash_limits` - md5, sha512, md5+sha512 on one thread and md5 || sha512 on two threads
  (what an upload must compute for Glance's ``checksum`` and ``os_hash_value``);
* :func:`loopback_limits` - bytes per second through a 127.0.0.1 TCP connection, sender and
  receiver in two threads (the syscalls release the GIL), once with ``sendall`` from memory
  (what an upload body costs) and once with ``sendfile`` from a page-cached file (what a
  download served with ``wsgi.file_wrapper`` costs);
* :func:`file_write_limits` - writing a *new* file (what a file-store upload does): through the
  page cache with and without the final fsync and with the file driver's write-behind, with
  ``O_DIRECT`` (the driver's default), and the file driver itself (md5 and sha512 on two
  threads feeding ``O_DIRECT`` writes, fsync at the end: an upload minus HTTP). On virtual
  machines new page-cache pages can cost several times more than the data copy (fresh guest
  memory), so this, not hashing, may bound buffered uploads.

Figures are MB/s (10^6 bytes per second), the best of a few runs.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from glance_store_plugins.drivers.direct_io import DirectWriter
from glance_store_plugins.drivers.filesystem import FileStore, WriteBehind, _write_all

MiB = 1 << 20


def best_rate(func: Callable[[], object], size: int, repeat: int = 2) -> float:
    """Best MB/s of ``func`` (which processes ``size`` bytes) over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return size / best / 1e6


def hash_limits(block: bytes, count: int) -> dict[str, float]:
    """Hashing speeds over ``count`` updates with ``block`` (MB/s)."""
    size = len(block) * count

    def one(*algos: str) -> Callable[[], None]:
        def run() -> None:
            hashes = [hashlib.new(a) for a in algos]
            for _ in range(count):
                for h in hashes:
                    h.update(block)
        return run

    def parallel() -> None:
        md5, sha = hashlib.md5(), hashlib.sha512()
        with ThreadPoolExecutor(1) as pool:
            for _ in range(count):
                done = pool.submit(md5.update, block)
                sha.update(block)
                done.result()

    return {
        "md5": best_rate(one("md5"), size),
        "sha512": best_rate(one("sha512"), size),
        "md5+sha512, one thread": best_rate(one("md5", "sha512"), size),
        "md5 || sha512, two threads": best_rate(parallel, size),
    }


def _receive_all(conn: socket.socket, size: int, chunk: int) -> None:
    buf = bytearray(chunk)
    view = memoryview(buf)
    left = size
    while left > 0:
        got = conn.recv_into(view, min(chunk, left))
        if not got:
            raise ConnectionError("sender closed early")
        left -= got


def _transfer(send: Callable[[socket.socket], None], size: int, chunk: int) -> float:
    """Seconds to move ``size`` bytes from ``send`` (thread) to a receiver over 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        errors: list[BaseException] = []

        def sender() -> None:
            try:
                with socket.create_connection(("127.0.0.1", port)) as out:
                    send(out)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=sender)
        start = time.perf_counter()
        thread.start()
        conn, _ = server.accept()
        with conn:
            _receive_all(conn, size, chunk)
        elapsed = time.perf_counter() - start
        thread.join()
        if errors:
            raise errors[0]
        return elapsed


def loopback_limits(size: int, chunk: int = MiB, repeat: int = 3) -> dict[str, float]:
    """Loopback TCP copy speeds of ``size`` bytes (MB/s): memory->socket and file->sendfile."""
    block = os.urandom(chunk)
    view = memoryview(block)

    def from_memory(out: socket.socket) -> None:
        left = size
        while left > 0:
            n = min(chunk, left)
            out.sendall(view[:n])
            left -= n

    with tempfile.NamedTemporaryFile(prefix="bench-loopback-") as tmp:
        for _ in range(size // chunk):
            tmp.write(block)
        tmp.write(block[: size % chunk])
        tmp.flush()

        def from_file(out: socket.socket) -> None:
            with open(tmp.name, "rb") as src:
                out.sendfile(src)

        results = {}
        for name, send in (("loopback TCP, sendall from memory", from_memory),
                           ("loopback TCP, sendfile from page cache", from_file)):
            best = min(_transfer(send, size, chunk) for _ in range(repeat))
            results[name] = size / best / 1e6
    return results


def file_write_limits(block: bytes, count: int, directory: str) -> dict[str, float]:
    """New-file write speeds in ``directory`` (MB/s).

    Files are kept until every run is done, as a store keeps its images: a file deleted between
    runs would hand its already-backed pages to the next run and flatter the figure.
    """
    size = len(block) * count
    serial = itertools.count()
    paths: list[str] = []

    def new_file() -> int:
        path = os.path.join(directory, f".bench-write-{os.getpid()}-{next(serial)}")
        paths.append(path)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(fsync: bool, behind: bool = False) -> Callable[[], None]:
        def run() -> None:
            fd = new_file()
            wb = WriteBehind(fd) if behind else None
            try:
                view = memoryview(block)
                for i in range(1, count + 1):
                    if wb is None:
                        os.write(fd, block)
                    else:  # as the file driver writes (in WRITE_PIECE slices)
                        _write_all(fd, view)
                    if wb is not None and i * len(block) >= wb.next_window:
                        wb.advance(i * len(block))
                if fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        return run

    def direct() -> None:
        fd = new_file()
        writer = DirectWriter(fd)
        try:
            for _ in range(count):
                writer.write(block)
            writer.finish()
            os.fsync(fd)
        finally:
            writer.close()
            os.close(fd)

    def driver() -> None:
        # the file driver itself with its defaults, minus HTTP: HashingChunks (md5 || sha512
        # on two threads) feeding O_DIRECT writes, fsync; the background warm-up is left out
        store = FileStore({"filesystem_store_datadir": directory,
                           "filesystem_store_warm_cache": "false"}, backend="bench")
        name = f"bench-driver-{os.getpid()}-{next(serial)}"
        paths.append(os.path.join(directory, name))
        store.write(name, itertools.repeat(block, count), size=size)

    try:
        return {
            "new file write (page cache)": best_rate(write(False), size),
            "new file write + fsync": best_rate(write(True), size),
            "new file write-behind + fsync": best_rate(write(True, behind=True), size),
            "new file O_DIRECT write + fsync": best_rate(direct, size),
            "file driver write (md5 || sha512 || O_DIRECT + fsync)": best_rate(driver, size),
        }
    finally:
        for path in paths:
            os.unlink(path)
