"""``glance-domain serve``: the real multi-process server over loopback HTTP."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.platform.conftest import JsonHttp, free_port, stop, wait_http

CLI = Path(sys.executable).parent / "glance-domain"


@attrs.frozen
class Server(JsonHttp):
    port: int
    proc: subprocess.Popen[bytes]
    data_dir: Path


def _start(tmp_path: Path, workers: int = 2) -> Server:
    port = free_port()
    conf = tmp_path / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {workers}\n"
        f"data_dir = {tmp_path / 'data'}\n"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp_path / 'images'}\n"
    )
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen([str(CLI), "--config-file", str(conf), "serve"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    log.close()
    try:
        wait_http(f"http://127.0.0.1:{port}/versions", proc)
    except Exception:
        stop(proc)
        raise
    return Server(port, proc, tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CLI.exists():
        pytest.fail("the glance-domain console script is not installed (pip install -e .)")
    srv = _start(tmp_path_factory.mktemp("serve"))
    yield srv
    stop(srv.proc)


def _create(server: Server, name: str) -> str:
    status, body = server.json("POST", "/v2/images", {
        "name": name, "disk_format": "raw", "container_format": "bare"})
    assert status == 201, body
    return str(body["id"])


def test_versions(server: Server) -> None:
    status, body = server.json("GET", "/versions")
    assert status in (200, 300)
    assert any(v["status"] == "CURRENT" for v in body["versions"])


def test_create_upload_download(server: Server) -> None:
    image_id = _create(server, "small")
    data = os.urandom(300_000)
    conn = server.connect()
    conn.request("PUT", f"/v2/images/{image_id}/file", body=data,
                 headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 204
    conn.request("GET", f"/v2/images/{image_id}/file")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-MD5") == hashlib.md5(data).hexdigest()
    assert resp.read() == data
    conn.close()
    status, image = server.json("GET", f"/v2/images/{image_id}")
    assert (status, image["status"], image["size"]) == (200, "active", len(data))


def test_streaming_64_mib_chunked_upload_and_download(server: Server) -> None:
    image_id = _create(server, "streamed")
    chunk = os.urandom(1 << 20)
    sent = hashlib.sha512()

    def body() -> Iterator[bytes]:
        for i in range(64):
            piece = chunk[i:] + chunk[:i]
            sent.update(piece)
            yield piece

    conn = server.connect()
    conn.request("PUT", f"/v2/images/{image_id}/file", body=body(), encode_chunked=True,
                 headers={"Content-Type": "application/octet-stream",
                          "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    assert resp.status == 204, resp.read()
    resp.read()
    status, image = server.json("GET", f"/v2/images/{image_id}")
    assert status == 200
    assert image["size"] == 64 << 20
    assert image["os_hash_value"] == sent.hexdigest()
    conn.request("GET", f"/v2/images/{image_id}/file")
    resp = conn.getresponse()
    assert resp.status == 200
    got = hashlib.sha512()
    total = 0
    while piece := resp.read(1 << 20):
        got.update(piece)
        total += len(piece)
    conn.close()
    assert (total, got.hexdigest()) == (64 << 20, sent.hexdigest())


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    srv = _start(tmp_path, workers=1)
    assert srv.json("GET", "/versions")[0] in (200, 300)
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=40) == 0
    with pytest.raises(OSError):
        srv.json("GET", "/versions")
