"""The image cache on a real server (two gunicorn workers, the file store, flavor
``cachemanagement``), driven by python-glanceclient's ``glance cache-*`` commands and by
``glance-domain cache ...`` on the same configuration."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    SERVER_CONFIG,
    _close_stdin,
    _console_script,
    _free_port,
    _wait_until_up,
    stop_server,
)

pytestmark = pytest.mark.e2e

CACHE_CONFIG = """
image_cache_dir = {data}/cache
cache_prefetcher_interval = 1

[paste_deploy]
flavor = cachemanagement
"""


class CacheServer:
    def __init__(self, url: str, conf: Path, data: Path) -> None:
        self.url = url
        self.conf = conf
        self.data = data

    def glance(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["HOME"] = str(self.data)
        proc = subprocess.run(
            [_console_script("glance"), "--os-image-url", self.url, "--os-auth-token", "x",
             "--os-image-api-version", "2", *args],
            capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
            preexec_fn=_close_stdin,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"glance {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
        return proc

    def ours(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_console_script("glance-domain"), *args, "--config-file", str(self.conf)],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )

    def cached(self) -> list[str]:
        proc = self.ours("cache", "list", "-f", "json")
        assert proc.returncode == 0, proc.stderr
        return [r["image_id"] for r in json.loads(proc.stdout)]

    def create(self, data: bytes) -> str:
        req = urllib.request.Request(
            self.url + "/v2/images", method="POST",
            data=json.dumps({"name": "cached", "disk_format": "raw",
                             "container_format": "bare"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            image_id = str(json.loads(resp.read())["id"])
        req = urllib.request.Request(self.url + f"/v2/images/{image_id}/file", method="PUT",
                                     data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 204
        return image_id

    def download(self, image_id: str) -> bytes:
        with urllib.request.urlopen(self.url + f"/v2/images/{image_id}/file") as resp:
            return bytes(resp.read())


def _eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {timeout}s: {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CacheServer]:
    root = tmp_path_factory.mktemp("e2e-cache")
    port = _free_port()
    data = root / "data"
    conf = root / "glance-api.conf"
    text = SERVER_CONFIG.format(port=port, data=data)
    text = text.replace("[glance_store]", CACHE_CONFIG.format(data=data) + "\n[glance_store]")
    conf.write_text(text)
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
            stdout=out, stderr=subprocess.STDOUT, cwd=root, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield CacheServer(url, conf, data)
    finally:
        stop_server(proc)


def _store_files(server: CacheServer, image_id: str) -> list[Path]:
    return [p for p in (server.data / "images").iterdir() if p.name.startswith(image_id)]


def test_downloads_fill_the_cache_and_are_served_from_it(server: CacheServer) -> None:
    data = os.urandom(1 << 20)
    image_id = server.create(data)
    assert server.download(image_id) == data
    _eventually(lambda: image_id in server.cached(), "the first download cached the image")
    for path in _store_files(server, image_id):  # the store's copy gone behind our back
        path.unlink()
    assert server.download(image_id) == data  # from the cache (either worker)
    assert server.download(image_id) == data
    listed = server.glance("cache-list").stdout
    assert image_id in listed and "cached" in listed
    server.glance("cache-delete", image_id)
    assert image_id not in server.cached()


def test_glance_cache_queue_prefetches_and_cache_clear_empties(server: CacheServer) -> None:
    data = os.urandom(200_000)
    image_id = server.create(data)
    server.glance("cache-queue", image_id)
    _eventually(lambda: image_id in server.cached(), "the queued image was prefetched")
    rows = [line for line in server.glance("cache-list").stdout.splitlines()
            if image_id in line]
    assert len(rows) == 1 and "| cached |" in rows[0]  # no longer queued
    server.glance("cache-clear", "--target", "cache")
    assert server.cached() == []


def test_deleting_an_image_removes_its_cached_copy(server: CacheServer) -> None:
    image_id = server.create(b"delete me" * 1000)
    server.download(image_id)
    _eventually(lambda: image_id in server.cached(), "cached")
    server.glance("image-delete", image_id)
    assert image_id not in server.cached()
    assert not (server.data / "cache" / image_id).exists()


def test_glance_domain_cache_commands_on_the_servers_directory(server: CacheServer) -> None:
    first, second = server.create(os.urandom(4096)), server.create(os.urandom(4096))
    for image_id in (first, second):
        server.download(image_id)
        _eventually(lambda image_id=image_id: image_id in server.cached(), "cached")
    server.download(first)  # second is now the least recently used
    pruned = server.ours("cache", "prune", "--max-size", "4096", "-f", "json")
    assert json.loads(pruned.stdout) == {"total_files_pruned": 1, "total_bytes_pruned": 4096}
    assert second not in server.cached() and first in server.cached()
    queued = server.ours("cache", "queue", second, "-f", "json")
    assert json.loads(queued.stdout) == {"queued": [second]}
    # the server's prefetcher looks at the queue every second
    _eventually(lambda: second in server.cached(), "prefetched by the server")
    cleared: Any = json.loads(server.ours("cache", "clear", "-f", "json").stdout)
    assert cleared["cache_deleted"] == 2
