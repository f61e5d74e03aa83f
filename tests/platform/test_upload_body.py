"""Uploads read straight from gunicorn's socket (``wsgi/upload_body.py``), on the real server.

The direct path only exists under gunicorn, so these tests run ``glance-domain serve``: body
bytes gunicorn buffered with the headers, keep-alive and pipelined requests after an upload, a
client leaving mid-body, and the size cap answered before the body is read.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import JsonHttp, free_port, stop, wait_http

CLI = Path(sys.executable).parent / "glance-domain"
SIZE_CAP = 8 << 20


class Server(JsonHttp):
    def __init__(self, port: int, images: Path) -> None:
        self.port = port
        self.images = images

    def create(self) -> str:
        status, body = self.json("POST", "/v2/images", {
            "name": "direct", "disk_format": "raw", "container_format": "bare"})
        assert status == 201, body
        return str(body["id"])

    def files_of(self, image_id: str) -> list[str]:
        """The image's data file and temporary files in the store's directory."""
        return [p.name for p in self.images.iterdir()
                if p.name == image_id or p.name.startswith(f".{image_id}.")]

    def image(self, image_id: str) -> dict[str, Any]:
        status, body = self.json("GET", f"/v2/images/{image_id}")
        assert status == 200, body
        return dict(body)


def _serve(tmp: Path, extra_defaults: str = "", store_options: str = "") -> Iterator[Server]:
    """Run ``glance-domain serve`` (one worker, file store) until the generator is closed."""
    if not CLI.exists():
        pytest.fail("the glance-domain console script is not installed (pip install -e .)")
    port = free_port()
    conf = tmp / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = 1\n"
        f"data_dir = {tmp / 'data'}\nimage_size_cap = {SIZE_CAP}\n{extra_defaults}"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp / 'images'}\n{store_options}"
    )
    with open(tmp / "server.log", "wb") as log:
        proc = subprocess.Popen([str(CLI), "--config-file", str(conf), "serve"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        wait_http(f"http://127.0.0.1:{port}/versions", proc)
        yield Server(port, tmp / "images")
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("upload-body"))


def _put_head(image_id: str, length: int) -> bytes:
    return (f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
            ).encode()


class _Responses:
    """Reads consecutive HTTP responses from one raw socket through ONE buffered reader.

    ``http.client.HTTPResponse(sock)`` makes its own buffered ``sock.makefile()``: when a
    pipelined second response is already in the socket, the first response's buffer reads it
    ahead and it is lost with that buffer (the second read then waits until the server's
    keep-alive timeout closes the connection). Sharing one reader keeps those bytes.
    """

    class _Unclosable:
        def __init__(self, fp: Any) -> None:
            self._fp = fp

        def __getattr__(self, name: str) -> Any:
            return getattr(self._fp, name)

        def close(self) -> None:
            """HTTPResponse closes its file at the end of a body; the next response needs it."""

    def __init__(self, sock: socket.socket) -> None:
        self._fp = sock.makefile("rb")

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        return self._Unclosable(self._fp)

    def next(self) -> tuple[int, bytes]:
        resp = http.client.HTTPResponse(self)  # type: ignore[arg-type]
        resp.begin()
        return resp.status, resp.read()


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP response from a raw socket (no request pipelined behind): (status, body)."""
    return _Responses(sock).next()


def _wait_for_responses(sock: socket.socket, count: int) -> None:
    """Block until ``count`` response status lines are in the socket (peeked, not read)."""
    seen = b""
    while seen.count(b"HTTP/1.1 ") < count:
        # waits for at least one byte more than already seen (the socket's timeout bounds it)
        more = sock.recv(len(seen) + 1, socket.MSG_PEEK | socket.MSG_WAITALL)
        if len(more) <= len(seen):
            return  # closed: let the reads report it
        seen = sock.recv(1 << 16, socket.MSG_PEEK)


def test_odd_sized_upload_in_uneven_sends_round_trips(server: Server) -> None:
    image_id = server.create()
    data = os.urandom((3 << 20) + 12345)
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        # headers and the first bytes in one send: gunicorn holds them in its own buffer
        sock.sendall(_put_head(image_id, len(data)) + data[:5000])
        pos = 5000
        for step in (1, 70_000, 1 << 20, 3):
            sock.sendall(data[pos:pos + step])
            pos += step
        sock.sendall(data[pos:])
        status, body = _read_response(sock)
        assert status == 204, body
        # same connection afterwards: gunicorn's reader knows the body was consumed
        sock.sendall(f"GET /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, body = _read_response(sock)
    assert status == 200
    assert body == data
    image = server.image(image_id)
    assert (image["status"], image["size"]) == ("active", len(data))
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_pipelined_request_after_a_small_upload(server: Server) -> None:
    image_id = server.create()
    data = b"tiny image"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        # the next request arrives with the body, in gunicorn's buffer past the body's end
        sock.sendall(_put_head(image_id, len(data)) + data
                     + b"GET /versions HTTP/1.1\r\nHost: x\r\n\r\n")
        # both responses in the socket before reading: a per-response buffered reader
        # would swallow the second with the first (the flakiness this test once had)
        _wait_for_responses(sock, 2)
        responses = _Responses(sock)
        first = responses.next()
        second = responses.next()
    assert first[0] == 204, first
    assert second[0] in (200, 300) and b"CURRENT" in second[1]
    assert server.image(image_id)["size"] == len(data)


def test_client_leaving_mid_body_leaves_nothing(server: Server) -> None:
    image_id = server.create()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(_put_head(image_id, 6 << 20) + os.urandom(3 << 20))
        deadline = time.monotonic() + 30
        while server.image(image_id)["status"] != "saving" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.image(image_id)["status"] == "saving"
    deadline = time.monotonic() + 30
    while server.image(image_id)["status"] != "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    image = server.image(image_id)
    assert (image["status"], image["size"]) == ("queued", None)
    time.sleep(0.2)
    assert server.files_of(image_id) == []


def test_over_the_cap_is_refused_and_the_connection_stays_usable(server: Server) -> None:
    image_id = server.create()
    data = os.urandom(SIZE_CAP + 1)
    conn = server.connect()
    conn.request("PUT", f"/v2/images/{image_id}/file", body=data,
                 headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 413
    conn.request("GET", "/versions")
    resp = conn.getresponse()
    assert resp.status in (200, 300) and b"CURRENT" in resp.read()
    conn.close()
    assert server.image(image_id)["status"] == "queued"
    assert server.files_of(image_id) == []


def _upload_then_pipelined_get(server: Server, image_id: str, data: bytes,
                               extra: str = "") -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    """PUT ``data`` and a pipelined GET /versions in one send; both responses."""
    head = _put_head(image_id, len(data)).replace(b"\r\n\r\n", f"\r\n{extra}\r\n".encode()) \
        if extra else _put_head(image_id, len(data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head + data + b"GET /versions HTTP/1.1\r\nHost: x\r\n\r\n")
        responses = _Responses(sock)
        return responses.next(), responses.next()


def test_conflict_answer_drains_the_body_and_serves_the_pipelined_request(
        server: Server) -> None:
    image_id = server.create()
    first, _ = _upload_then_pipelined_get(server, image_id, b"x" * 100)
    assert first[0] == 204
    data = os.urandom(200_000)
    conflict, after = _upload_then_pipelined_get(server, image_id, data)
    assert conflict[0] == 409, conflict
    assert after[0] in (200, 300) and b"CURRENT" in after[1]
    assert server.image(image_id)["size"] == 100


def test_format_mismatch_answer_serves_the_pipelined_request(server: Server) -> None:
    status, body = server.json("POST", "/v2/images", {
        "name": "q", "disk_format": "qcow2", "container_format": "bare"})
    assert status == 201, body
    refused, after = _upload_then_pipelined_get(server, body["id"], os.urandom(300_000))
    assert refused[0] == 415, refused
    assert after[0] in (200, 300) and b"CURRENT" in after[1]
    assert server.image(body["id"])["status"] == "queued"


def test_expect_100_continue_upload(server: Server) -> None:
    image_id = server.create()
    data = os.urandom(100_000)
    head = _put_head(image_id, len(data)).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head)
        responses = _Responses(sock)
        interim = responses._fp.readline() + responses._fp.readline()
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(data)
        done = responses.next()
    assert done[0] == 204, done
    assert server.image(image_id)["checksum"] == hashlib.md5(data).hexdigest()


def test_a_stalled_upload_times_out_with_client_socket_timeout(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """A client that announces more bytes than it sends must not hold a worker thread forever:
    after ``client_socket_timeout`` seconds without data the server gives up on the body
    (Glance's eventlet server does the same), the image goes back to queued."""
    for server in _serve(tmp_path_factory.mktemp("stalled"), "client_socket_timeout = 2\n"):
        image_id = server.create()
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(_put_head(image_id, 1 << 20) + b"only a few bytes")
            # the server answers (or just closes) on its own; the client never sends more
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        assert not received or received.startswith(b"HTTP/1.1 400"), received[:200]
        image = server.image(image_id)
        assert (image["status"], image["size"]) == ("queued", None)
        assert server.files_of(image_id) == []
