"""A worker killed (SIGKILL) in the middle of uploads (issue 12, section 3), on the real server.

``glance-domain serve`` (one worker process, file store, staging area) receives an upload or a
``/stage`` whose body is only partly sent; once its partial file exists the worker is killed and
gunicorn starts a new one. Several times. Afterwards every image must be ``queued`` again (none
stuck in ``saving``/``uploading``), no ``.partial`` or staging temporary file may be left, and
the image can be uploaded again. Deleting a ``saving`` image removes its partial file at once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import JsonHttp, file_store_server

KILLS = 6
ANNOUNCED = 64 << 20  # what each killed request announces
SENT = 4 << 20  # what it sends before its worker is killed


class Server(JsonHttp):
    def __init__(self, port: int, proc: subprocess.Popen[bytes], tmp: Path) -> None:
        self.port = port
        self.proc = proc
        self.images = tmp / "images"
        self.staging = tmp / "data" / "staging"

    def create(self) -> str:
        status, body = self.json("POST", "/v2/images", {
            "name": "crash", "disk_format": "raw", "container_format": "bare"})
        assert status == 201, body
        return str(body["id"])

    def status(self, image_id: str) -> str:
        status, body = self.json("GET", f"/v2/images/{image_id}")
        assert status == 200, body
        return str(body["status"])

    def partials(self) -> list[str]:
        """Temporary files of unfinished writes, in the store and in the staging area."""
        found = [p.name for p in self.images.iterdir() if p.name.endswith(".partial")]
        if self.staging.exists():
            found += [p.name for p in self.staging.iterdir() if p.name.startswith(".staging-")]
        return found

    def worker(self) -> int:
        """The pid of the (single) worker process, waiting for one to be running."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            children = [int(pid) for pid in path.read_text().split()]
            if len(children) == 1:
                return children[0]
            time.sleep(0.1)
        raise AssertionError("no single worker process")


def _until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll ``check`` until it returns something true (a bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("upload-crash")
    with file_store_server(tmp, "workers = 1\nupload_lease_timeout = 30\n") as (port, proc):
        yield Server(port, proc, tmp)


def _start_upload(server: Server, image_id: str, target: str) -> socket.socket:
    """Send the head and the first SENT bytes of a PUT of ANNOUNCED bytes; wait until the
    server has written some of them."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        f"PUT /v2/images/{image_id}/{target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {ANNOUNCED}\r\n\r\n"
        .encode())
    sock.sendall(os.urandom(SENT))
    _until("the partial file", lambda: any(image_id in name for name in server.partials()))
    return sock


def test_killed_uploads_are_recovered(server: Server) -> None:
    ids = []
    for round_ in range(KILLS):
        image_id = server.create()
        ids.append(image_id)
        target = "stage" if round_ % 3 == 2 else "file"
        sock = _start_upload(server, image_id, target)
        expected = "uploading" if target == "stage" else "saving"
        assert server.status(image_id) == expected
        worker = server.worker()
        os.kill(worker, signal.SIGKILL)
        sock.close()
        _until("a new worker", lambda worker=worker: server.worker() != worker)
    # recovery: at the new worker's start (the dead one was on this host) and periodically
    _until("every image queued", lambda: all(server.status(i) == "queued" for i in ids))
    assert server.partials() == []
    # ... and an image whose upload was killed takes a new one
    conn = server.connect()
    conn.request("PUT", f"/v2/images/{ids[0]}/file", body=b"new data",
                 headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (204, b"")
    conn.close()
    assert server.status(ids[0]) == "active"


def test_deleting_a_saving_image_removes_its_partial_file(server: Server) -> None:
    image_id = server.create()
    sock = _start_upload(server, image_id, "file")
    try:
        assert server.status(image_id) == "saving"
        assert server.json("DELETE", f"/v2/images/{image_id}")[0] == 204
        assert [n for n in server.partials() if image_id in n] == []
    finally:
        sock.close()
    # the interrupted upload leaves nothing either
    _until("no partial file", lambda: server.partials() == [], timeout=30)
