#!/usr/bin/env python3
"""Store throughput next to this machine's limits, measured in the same run.

    .venv/bin/python bench/bench_stores.py            # 1 GiB
    .venv/bin/python bench/bench_stores.py 256        # 256 MiB
    .venv/bin/python bench/bench_stores.py 256 --s3   # also the s3 driver on a local moto_server

Limits: md5, sha512, md5+sha512 on one thread, md5 || sha512 on two threads, raw page-cache
file write, read and copy (read + write) with the same chunk size, raw O_DIRECT read. Stores:
write (hashing included) and read of the file driver (with and without fsync; reads after its
cache warm-up, and a cold read of a file never warmed) and the memory driver. Targets: store
write >= 85% of the hashing limit (best of one and two threads); file read >= 90% of raw copy.
"""

from __future__ import annotations

import argparse
import mmap
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

from _common import MiB, hash_limits
from _common import best_rate as timed

from glance_store_plugins import Store
from glance_store_plugins.drivers import cache_warmer
from glance_store_plugins.drivers.filesystem import FileStore
from glance_store_plugins.drivers.memory import MemoryStore


def source(block: bytes, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield block


def file_limits(block: bytes, count: int, workdir: str) -> dict[str, float]:
    size = len(block) * count
    src, dst = os.path.join(workdir, "raw-src"), os.path.join(workdir, "raw-dst")

    def write(fsync: bool) -> Callable[[], None]:
        def run() -> None:
            fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            for _ in range(count):
                os.write(fd, block)
            if fsync:
                os.fsync(fd)
            os.close(fd)
        return run

    def read() -> None:
        with open(src, "rb", buffering=0) as f:
            while f.read(len(block)):
                pass

    def direct_read() -> None:
        fd = os.open(src, os.O_RDONLY | os.O_DIRECT)
        buffer = mmap.mmap(-1, 2 * MiB)
        try:
            offset = 0
            while got := os.preadv(fd, [buffer], offset):
                offset += got
        finally:
            buffer.close()
            os.close(fd)

    def copy() -> None:
        with open(src, "rb", buffering=0) as f, open(dst, "wb", buffering=0) as out:
            while chunk := f.read(len(block)):
                out.write(chunk)
        os.unlink(dst)

    results = {
        "raw file write (page cache)": timed(write(False), size),
        "raw file write + fsync": timed(write(True), size),
    }
    results["raw file read (page cache)"] = timed(read, size)
    results["raw file copy (page cache)"] = timed(copy, size)
    results["raw O_DIRECT read (disk, 2 MiB)"] = timed(direct_read, size)
    os.unlink(src)
    return results


def store_figures(
    name: str, store: Store, block: bytes, count: int, repeat: int = 2,
    settle: Callable[[], object] | None = None,
) -> dict[str, float]:
    """Write and read speeds of ``store``; ``settle`` runs between the last write and the reads
    (the file driver's warm-up: its reads are then served from the page cache)."""
    size = len(block) * count
    urls: list[str] = []

    def write() -> None:
        if urls:
            store.delete(urls.pop())
        urls.append(store.write("bench-image", source(block, count), size=size).url)

    def read() -> None:
        with store.read(urls[-1]) as stream:
            for _ in stream:
                pass

    figures = {f"{name} write": timed(write, size, repeat)}
    if settle is not None:
        settle()
    figures[f"{name} read"] = timed(read, size)
    store.delete(urls.pop())
    return figures


def s3_figures(block: bytes, count: int) -> dict[str, float]:
    from glance_store_plugins.drivers.s3 import S3Store

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        store = S3Store({
            "s3_store_host": f"http://127.0.0.1:{port}", "s3_store_access_key": "a",
            "s3_store_secret_key": "b", "s3_store_bucket": "bench",
            "s3_store_create_bucket_on_put": True,
        }, backend="s3")
        return store_figures("s3 driver (moto_server)", store, block, count, repeat=1)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mib", nargs="?", type=int, default=1024, help="image size in MiB")
    parser.add_argument("--chunk", type=int, default=1024, help="source chunk size in KiB")
    parser.add_argument("--dir", default=None, help="directory for files (default: a temp dir)")
    parser.add_argument("--s3", action="store_true", help="also measure s3 on moto_server")
    args = parser.parse_args()
    block = os.urandom(args.chunk * 1024)
    count = args.mib * MiB // len(block)
    workdir = tempfile.mkdtemp(prefix="bench-stores-", dir=args.dir)
    try:
        rows = {**hash_limits(block, count), **file_limits(block, count, workdir)}
        images = os.path.join(workdir, "images")
        for fsync in (True, False):
            store = FileStore({"filesystem_store_datadir": images,
                               "filesystem_store_fsync": fsync}, backend="file")
            label = "file driver" + ("" if fsync else " (no fsync)")
            rows.update(store_figures(label, store, block, count,
                                      settle=lambda: cache_warmer.WARMER.idle(300)))
        # a file not in the page cache (no warm-up): read with O_DIRECT, several reads ahead
        cold = FileStore({"filesystem_store_datadir": images,
                          "filesystem_store_warm_cache": False}, backend="file")
        rows.update(store_figures("file driver, cold", cold, block, count, repeat=1))
        rows.update(store_figures("memory driver", MemoryStore(backend="m"), block, count))
        if args.s3:
            rows.update(s3_figures(block, count))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"# {args.mib} MiB in {len(block) // 1024} KiB chunks, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    print(f"{'measure':40} {'MB/s':>8}")
    for name, value in rows.items():
        print(f"{name:40} {value:8.0f}")
    print("(file driver reads come after its cache warm-up; 'cold' is a file it never warmed)")
    # the hashing limit is the better of one and two threads (two win on an idle multi-core box)
    limit = max(rows["md5 || sha512, two threads"], rows["md5+sha512, one thread"])
    print(f"\nfile driver write / hashing limit   {rows['file driver write'] / limit:6.0%}"
          " (target 85%)")
    print(f"memory driver write / hashing limit {rows['memory driver write'] / limit:6.0%}")
    copy = rows["raw file copy (page cache)"]
    print(f"file driver read / raw copy         {rows['file driver read'] / copy:6.0%}"
          " (target 90%)")
    print(f"file driver read / raw read         "
          f"{rows['file driver read'] / rows['raw file read (page cache)']:6.0%}")
    print(f"cold read / raw O_DIRECT read       "
          f"{rows['file driver, cold read'] / rows['raw O_DIRECT read (disk, 2 MiB)']:6.0%}")


if __name__ == "__main__":
    main()
