"""v1 through ``glance-domain serve`` (gunicorn and our head-first worker) on loopback: the
``x-image-meta-*`` names v1 clients spell with underscores reach the app, while every other
underscore header is still dropped (``X_Roles`` cannot pass for ``X-Roles``)."""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import _console_script, _free_port, _wait_until_up, stop_server

CONFIG = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 1
worker_threads = 4
data_dir = {data}
enabled_backends = fs:file
enable_v1_api = true

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {data}/images
"""
MEMBER = [("X-Identity-Status", "Confirmed"), ("X-Project-Id", "p1"), ("X-User-Id", "u1"),
          ("X-Roles", "member,reader")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("v1-serve")
    port = _free_port()
    conf = root / "glance-api.conf"
    conf.write_text(CONFIG.format(port=port, data=root / "data"))
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
            stdout=out, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", proc, Path(log))
        yield "127.0.0.1", port
    finally:
        stop_server(proc)


def _request(server: tuple[str, int], method: str, path: str,
             headers: list[tuple[str, str]], body: bytes | None = None) -> Any:
    conn = http.client.HTTPConnection(*server, timeout=30)
    try:
        conn.putrequest(method, path)
        for name, value in headers:  # exactly these spellings on the wire
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_underscore_meta_headers_reach_v1(server: tuple[str, int]) -> None:
    data = b"disk bytes" * 1000
    status, _, body = _request(server, "POST", "/v1/images", [
        *MEMBER, ("x-image-meta-name", "wire"), ("x-image-meta-disk_format", "raw"),
        ("x-image-meta-container_format", "bare"), ("x-image-meta-min_ram", "64"),
        ("x-image-meta-property-os_distro", "debian"),
        ("Content-Type", "application/octet-stream")], data)
    assert status == 201, body
    image = json.loads(body)["image"]
    assert image["disk_format"] == "raw" and image["container_format"] == "bare"
    assert image["min_ram"] == 64 and image["properties"] == {"os_distro": "debian"}
    status, headers, got = _request(server, "GET", f"/v1/images/{image['id']}", MEMBER)
    assert status == 200 and got == data
    assert headers["x-image-meta-checksum"] == hashlib.md5(data).hexdigest()


def test_other_underscore_headers_are_still_dropped(server: tuple[str, int]) -> None:
    # X_Roles would join X-Roles in the environ if gunicorn mapped it: an admin role there
    # would let this member publicize an image
    status, _, body = _request(server, "POST", "/v1/images", [
        *MEMBER, ("X_Roles", "admin"), ("x-image-meta-name", "sneaky"),
        ("x-image-meta-is_public", "true")])
    assert status == 403, body
