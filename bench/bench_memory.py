#!/usr/bin/env python3
"""Server memory during a large upload and download (does the server stream?).

Starts ``glance-domain serve`` with one worker on a free 127.0.0.1 port and a tmp data dir,
creates an image, uploads SIZE bytes (chunked, from a generator: the client holds 1 MiB), then
downloads them, and prints the worker's resident memory: after a warm-up request, its peak
(``VmHWM``) during the upload, and its peak during the download. A server that buffers bodies
grows by the image size; a streaming one stays flat. Target: growth < 64 MiB for 4 GiB.

    python bench/bench_memory.py              # 4 GiB
    python bench/bench_memory.py --size-mib 512

Needs SIZE free bytes in the tmp dir (``--tmp`` to choose where). Not a test: it takes a while.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

MiB = 1 << 20
CLI = Path(sys.executable).parent / "glance-domain"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0; needs to own the process)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


def wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/versions")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def run(size: int, tmp: Path) -> int:
    port = free_port()
    conf = tmp / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_port = {port}\nworkers = 1\ndata_dir = {tmp / 'data'}\n"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp / 'images'}\n"
    )
    proc = subprocess.Popen([str(CLI), "--config-file", str(conf), "serve"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, proc)
        (worker,) = children(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", "/v2/images", body=json.dumps(
            {"name": "big", "disk_format": "raw", "container_format": "bare"}),
            headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        image_id = json.loads(resp.read())["id"]
        conn.request("GET", f"/v2/images/{image_id}")
        conn.getresponse().read()
        baseline = status_kib(worker, "VmRSS")
        can_reset = reset_peak(worker)

        block = os.urandom(MiB)
        sent = hashlib.md5()

        def body() -> Iterator[bytes]:
            remaining = size
            while remaining:
                piece = block[: min(MiB, remaining)]
                sent.update(piece)
                remaining -= len(piece)
                yield piece

        start = time.perf_counter()
        conn.request("PUT", f"/v2/images/{image_id}/file", body=body(), encode_chunked=True,
                     headers={"Content-Type": "application/octet-stream",
                              "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        resp.read()
        upload_s = time.perf_counter() - start
        if resp.status != 204:
            raise SystemExit(f"upload failed: HTTP {resp.status}")
        upload_peak = status_kib(worker, "VmHWM")
        reset_peak(worker)

        start = time.perf_counter()
        conn.request("GET", f"/v2/images/{image_id}/file")
        resp = conn.getresponse()
        got = hashlib.md5()
        total = 0
        while piece := resp.read(MiB):
            got.update(piece)
            total += len(piece)
        download_s = time.perf_counter() - start
        download_peak = status_kib(worker, "VmHWM")
        conn.close()
        if (total, got.hexdigest()) != (size, sent.hexdigest()):
            raise SystemExit("downloaded data differs from the uploaded data")

        up_growth = (upload_peak - baseline) / 1024
        down_growth = (download_peak - baseline) / 1024
        print(f"image size                 {size / MiB:10.0f} MiB")
        print(f"worker RSS after warm-up   {baseline / 1024:10.1f} MiB")
        print(f"peak growth during upload  {up_growth:10.1f} MiB   "
              f"({size / upload_s / 1e6:.0f} MB/s)")
        print(f"peak growth during download{down_growth:10.1f} MiB   "
              f"({size / download_s / 1e6:.0f} MB/s)")
        if not can_reset:
            print("(VmHWM could not be reset: the download peak includes the upload's)")
        worst = max(up_growth, down_growth)
        print(f"result: {'OK' if worst < 64 else 'TOO MUCH'} (limit 64 MiB)")
        return 0 if worst < 64 else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=4096, help="image size (default 4096)")
    parser.add_argument("--tmp", default=None, help="directory for the data (default: tmp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="bench-memory-") as tmp:
        return run(args.size_mib * MiB, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
