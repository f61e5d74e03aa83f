#!/usr/bin/env python3
"""Image API v2 over HTTP: request rates and transfer speeds next to this machine's limits.

    .venv/bin/python bench/bench_api.py                       # our server, production defaults
    .venv/bin/python bench/bench_api.py --images 500 --mib 128  # quicker
    .venv/bin/python bench/bench_api.py --url http://127.0.0.1:9393 \\
        -H 'X-Roles: admin,member,reader' -H 'X-Project-Id: admin' -H 'X-User-Id: admin'

Without ``--url`` the bench starts ``glance-domain serve`` (subprocess, 127.0.0.1, a free port,
the working directory a fresh temporary directory, so ``./data`` holds a new SQLite database
and file store) with no configuration file, i.e. its production defaults, and stops it at the
end. With ``--url`` it measures that server the same way and deletes the images it created.

One run prints: image create rate (5 extra properties and 2 tags each; one client and 8
concurrent clients), show requests/s with 8 concurrent clients (``wrk`` when installed, else
Python threads; both with ``--both-clients``), first-page list latency and a full walk of the
paginated list (default page size, following ``next``), JSON-patch updates/s, upload and
download MB/s of one ``--mib`` MiB image, and the same run's machine limits (md5, sha512,
md5+sha512 one thread, md5 || sha512 two threads, loopback TCP copy from memory and with
sendfile). Clients are ``http.client`` keep-alive connections, one per thread. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _common import MiB, file_write_limits, hash_limits, loopback_limits

JSON = "application/json"
PATCH = "application/openstack-images-v2.1-json-patch"
CONCURRENCY = 8


# --------------------------------------------------------------------------------- client


class Api:
    """Minimal keep-alive client: one ``http.client`` connection per thread."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("--url must be http:// on the loopback interface")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        self.headers = headers
        self._local = threading.local()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.prefix}"

    def conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = JSON,
        expect: int | tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        """Send a request, return the decoded JSON body (None when empty)."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self.conn()
            try:
                conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server closed an idle keep-alive connection: once more on a new one
                self.close()
                if attempt == 2:
                    raise
        expected = (expect,) if isinstance(expect, int) else expect
        if resp.status not in expected:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
        if resp.getheader("Connection", "").lower() == "close" or resp.will_close:
            conn.close()
            self._local.conn = None
        return json.loads(raw) if raw else None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def run_parallel(threads: int, count: int, func: Callable[[int], object]) -> float:
    """Run ``func(i)`` for i in range(count) on ``threads`` threads; elapsed seconds."""
    counter = itertools.count()
    errors: list[BaseException] = []

    def worker() -> None:
        while not errors:
            i = next(counter)
            if i >= count:
                return
            try:
                func(i)
            except BaseException as exc:
                errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


# --------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(api: Api, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(api.host, api.port, timeout=2)
            conn.request("GET", api.prefix + "/versions")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not answer /versions in time")


@contextmanager
def our_server(keep: bool) -> Iterator[tuple[Api, str]]:
    """``glance-domain serve`` with its defaults in a temporary working directory."""
    workdir = tempfile.mkdtemp(prefix="bench-api-")
    port = free_port()
    binary = os.path.join(os.path.dirname(sys.executable), "glance-domain")
    with open(os.path.join(workdir, "serve.log"), "wb") as log:
        proc = subprocess.Popen(
            [binary, "serve", "--bind-host", "127.0.0.1", "--bind-port", str(port)],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    api = Api(f"http://127.0.0.1:{port}", {})
    try:
        wait_ready(api, proc)
        yield api, f"glance-domain serve (defaults) pid {proc.pid}, workdir {workdir}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if keep:
            print(f"# kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------------- measures


def image_body(i: int) -> dict[str, Any]:
    """An image with 5 extra properties and 2 tags."""
    body: dict[str, Any] = {
        "name": f"bench-{i:05d}", "disk_format": "raw", "container_format": "bare",
        "tags": [f"tag-a-{i % 7}", f"tag-b-{i % 11}"],
    }
    for p in range(5):
        body[f"bench_prop_{p}"] = f"value-{p}-{i}"
    return body


def measure_create(api: Api, images: int, ids: list[str], clients: int) -> dict[str, float]:
    """Create ``images`` images: the first 10% with one client, the rest with ``clients``."""
    lock = threading.Lock()

    def create(i: int) -> None:
        image = api.request("POST", "/v2/images", image_body(i), expect=201)
        with lock:
            ids.append(image["id"])

    serial = max(1, images // 10)
    t1 = run_parallel(1, serial, create)
    rest = images - serial
    tn = run_parallel(clients, rest, lambda i: create(serial + i)) if rest else 0.0
    return {"create, 1 client (images/s)": serial / t1,
            f"create, {clients} clients (images/s)": rest / tn if tn else 0.0}


def wrk_show(api: Api, image_id: str, seconds: int) -> float | None:
    """Requests/s of ``wrk`` (8 connections) on GET /v2/images/{id}; None if wrk is absent."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    cmd = [wrk, "-t2", f"-c{CONCURRENCY}", f"-d{seconds}s", "--latency"]
    for name, value in api.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"{api.url}/v2/images/{image_id}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    return float(match.group(1))


def python_show(api: Api, ids: list[str], requests: int) -> float:
    elapsed = run_parallel(CONCURRENCY, requests,
                           lambda i: api.request("GET", f"/v2/images/{ids[i % len(ids)]}"))
    return requests / elapsed


def measure_show(api: Api, ids: list[str], args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    rate = None if args.no_wrk else wrk_show(api, ids[len(ids) // 2], args.seconds)
    if rate is not None:
        results[f"show, {CONCURRENCY} clients, wrk (req/s)"] = rate
    if rate is None or args.both_clients:
        results[f"show, {CONCURRENCY} clients, Python threads (req/s)"] = python_show(
            api, ids, args.show_requests)
    return results


def measure_list(api: Api, images: int, repeat: int) -> dict[str, float]:
    """Median first-page latency (ms) and best full paginated walk (s)."""
    latencies = []
    for _ in range(repeat * 10):
        start = time.perf_counter()
        api.request("GET", "/v2/images")
        latencies.append(time.perf_counter() - start)
    walks = []
    pages = seen = 0
    for _ in range(repeat):
        path: str | None = "/v2/images"
        pages = seen = 0
        start = time.perf_counter()
        while path:
            body = api.request("GET", path)
            pages += 1
            seen += len(body["images"])
            path = body.get("next")
        walks.append(time.perf_counter() - start)
    if seen < images:
        raise RuntimeError(f"the walk saw {seen} images, expected at least {images}")
    return {"list first page, median (ms)": statistics.median(latencies) * 1000,
            f"list full walk, {seen} images in {pages} pages (s)": min(walks)}


def measure_patch(api: Api, ids: list[str], count: int, clients: int) -> dict[str, float]:
    def patch(i: int) -> None:
        ops = [{"op": "replace", "path": "/bench_prop_0", "value": f"patched-{i}"},
               {"op": "add", "path": "/bench_extra", "value": str(i)}]
        api.request("PATCH", f"/v2/images/{ids[i % len(ids)]}", ops, content_type=PATCH)

    t1 = run_parallel(1, count // 4, patch)
    tn = run_parallel(clients, count, patch)
    return {"patch, 1 client (updates/s)": (count // 4) / t1,
            f"patch, {clients} clients (updates/s)": count / tn}


def upload(api: Api, image_id: str, block: bytes, count: int) -> float:
    """PUT ``count`` x ``block`` as the image data; seconds until the 204."""
    size = len(block) * count
    headers = dict(api.headers)
    headers.update({"Content-Type": "application/octet-stream",
                    "Content-Length": str(size)})
    api.close()  # a new connection: an idle one may be closed by the server mid-send
    conn = api.conn()
    start = time.perf_counter()
    conn.putrequest("PUT", f"{api.prefix}/v2/images/{image_id}/file",
                    skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    view = memoryview(block)
    for _ in range(count):
        conn.sock.sendall(view)
    resp = conn.getresponse()
    raw = resp.read()
    elapsed = time.perf_counter() - start
    if resp.status != 204:
        raise RuntimeError(f"upload: {resp.status} {raw[:300]!r}")
    return elapsed


def download(api: Api, image_id: str, size: int) -> float:
    """GET the image data into a reused buffer; seconds until the last byte."""
    api.close()
    conn = api.conn()
    start = time.perf_counter()
    conn.request("GET", f"{api.prefix}/v2/images/{image_id}/file", headers=api.headers)
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"download: {resp.status} {resp.read()[:300]!r}")
    buf = memoryview(bytearray(MiB))
    got = 0
    while True:
        n = resp.readinto(buf)
        if not n:
            break
        got += n
    elapsed = time.perf_counter() - start
    if got != size:
        raise RuntimeError(f"download: {got} bytes, expected {size}")
    return elapsed


def measure_data(
    api: Api, mib: int, repeat: int, ids: list[str], adjacent_limits: bool = False
) -> dict[str, float]:
    """Best upload and download MB/s; with ``adjacent_limits`` also the two-thread hashing
    limit measured right before each upload and the median ratio of the pairs (on a shared
    machine the load changes between the start-of-run limits and the uploads)."""
    block = os.urandom(8 * MiB) if mib >= 8 else os.urandom(mib * MiB)
    hash_block = os.urandom(MiB)
    count = mib * MiB // len(block)
    size = len(block) * count
    up = []
    ratios = []
    limits = []
    image_id = ""
    for r in range(repeat):
        image = api.request("POST", "/v2/images",
                            {"name": f"bench-data-{r}", "disk_format": "raw",
                             "container_format": "bare"}, expect=201)
        ids.append(image["id"])
        if adjacent_limits:
            limits.append(hash_limits(hash_block, 256)["md5 || sha512, two threads"])
        up.append(upload(api, image["id"], block, count))
        if adjacent_limits:
            ratios.append(size / up[-1] / 1e6 / limits[-1] * 100)
        image_id = image["id"]
    # a download takes a fraction of a second: a few more runs cost little and tame the noise
    down = [download(api, image_id, size) for _ in range(max(repeat, 5))]
    rows = {f"upload {mib} MiB (MB/s)": size / min(up) / 1e6,
            f"download {mib} MiB (MB/s)": size / min(down) / 1e6}
    if adjacent_limits:
        rows["md5 || sha512 two threads, next to uploads (MB/s)"] = statistics.median(limits)
        rows["upload / hashing limit next to it, median (%)"] = statistics.median(ratios)
    return rows


def delete_all(api: Api, ids: list[str]) -> None:
    run_parallel(4, len(ids), lambda i: api.request("DELETE", f"/v2/images/{ids[i]}",
                                                    expect=(204, 404)))


# --------------------------------------------------------------------------------- report


def parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep:
            raise SystemExit(f"bad header {value!r}: expected 'Name: value'")
        headers[name.strip()] = content.strip()
    return headers


class Rows(dict[str, float]):
    """Measures, printed as they arrive (a long run against a slow server shows progress)."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        new = dict(*args, **kwargs)
        for name, value in new.items():
            digits = 2 if "(s)" in name else 1  # a walk of ~0.25 s needs two decimals
            print(f"{name:52} {value:10.{digits}f}", flush=True)
        super().update(new)


def run(api: Api, args: argparse.Namespace) -> dict[str, float]:
    ids: list[str] = []
    rows = Rows()
    print(f"{'measure':52} {'value':>10}", flush=True)
    try:
        phases = set(args.phases.split(","))
        if phases & {"show", "list", "patch"}:
            phases.add("create")  # they measure the images the create phase makes
        if "create" in phases:
            rows.update(measure_create(api, args.images, ids, args.write_clients))
        if "show" in phases:
            rows.update(measure_show(api, ids, args))
        if "list" in phases:
            rows.update(measure_list(api, args.images, args.repeat))
        if "patch" in phases:
            rows.update(measure_patch(api, ids, args.patches, args.write_clients))
        if args.mib and "data" in phases:
            rows.update(measure_data(api, args.mib, args.repeat, ids,
                                     adjacent_limits=not args.no_limits))
    finally:
        if args.url and not args.keep:
            delete_all(api, ids)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this server (loopback only) instead of ours")
    parser.add_argument("-H", "--header", action="append", default=[],
                        help="extra request header 'Name: value' (repeatable)")
    parser.add_argument("--images", type=int, default=2000, help="images to create and walk")
    parser.add_argument("--patches", type=int, default=800, help="JSON-patch requests")
    parser.add_argument("--show-requests", type=int, default=4000,
                        help="GETs of the Python show client")
    parser.add_argument("--write-clients", type=int, default=CONCURRENCY,
                        help="concurrent clients of the create and patch phases (Glance on "
                        "SQLite answers concurrent writers with 500 'database is locked': use 1)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration")
    parser.add_argument("--mib", type=int, default=512, help="upload/download size (0: skip)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of list/upload/download")
    parser.add_argument("--phases", default="create,show,list,patch,data",
                        help="comma-separated phases to run (create, show, list, patch, data); "
                        "e.g. 'data' for upload/download only (show, list and patch imply "
                        "create)")
    parser.add_argument("--no-wrk", action="store_true", help="Python client for show")
    parser.add_argument("--both-clients", action="store_true",
                        help="measure show with wrk and with Python threads")
    parser.add_argument("--no-limits", action="store_true", help="skip the machine limits")
    parser.add_argument("--keep", action="store_true",
                        help="keep the images (--url) or the server's work directory")
    args = parser.parse_args()
    headers = parse_headers(args.header)

    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, wrk "
          f"{'yes' if shutil.which('wrk') and not args.no_wrk else 'no'}", flush=True)
    limits: dict[str, float] = {}
    if not args.no_limits:
        block = os.urandom(MiB)
        limits.update(hash_limits(block, 256))
        limits.update(loopback_limits(max(args.mib, 256) * MiB, repeat=5))
        with tempfile.TemporaryDirectory(prefix="bench-api-limits-") as scratch:
            limits.update(file_write_limits(block, max(args.mib, 256), scratch))
    if args.url:
        api = Api(args.url, headers)
        wait_ready(api, None, timeout=10)
        print(f"# server: {args.url}", flush=True)
        rows = run(api, args)
    else:
        with our_server(args.keep) as (api, what):
            print(f"# server: {what}", flush=True)
            rows = run(api, args)

    if limits:
        print(f"\n{'machine limit (same run)':52} {'MB/s':>10}")
        for name, value in limits.items():
            print(f"{name:52} {value:10.0f}")
        hashing = max(limits["md5 || sha512, two threads"], limits["md5+sha512, one thread"])
        # a file-store download is a sendfile from the page cache: that is its loopback limit
        loop = limits["loopback TCP, sendfile from page cache"]
        memory = limits["loopback TCP, sendall from memory"]
        up = next((v for k, v in rows.items() if k.startswith("upload")), None)
        down = next((v for k, v in rows.items() if k.startswith("download")), None)
        store = limits["file driver write (md5 || sha512 || O_DIRECT + fsync)"]
        if up is not None and down is not None:
            print(f"\nupload / best hashing limit            {up / hashing:6.0%} (target 80%)")
            print(f"upload / file driver without HTTP     {up / store:6.0%}")
            print(f"download / loopback sendfile limit     {down / loop:6.0%} (target 90%)")
            print(f"download / loopback sendall limit      {down / memory:6.0%}")


if __name__ == "__main__":
    main()
