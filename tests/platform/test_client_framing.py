"""Malformed request framing against the real ``glance-domain serve`` (gunicorn parses the
chunked coding): a 400 (or 501 for a transfer coding it does not decode), never a 500, and the
image stays ``queued`` with nothing stored (issue 12, section 4)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.platform.conftest import JsonHttp, file_store_server

#: no identity headers: the default (no keystone) caller, the local admin
IDENTITY = ""


@attrs.frozen
class Server(JsonHttp):
    port: int
    proc: subprocess.Popen[bytes]
    images: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("framing")
    with file_store_server(tmp, "workers = 1\nenabled_import_methods = "
                           "[glance-direct,web-download]\n") as (port, proc):
        yield Server(port, proc, tmp / "images")


def _raw(server: Server, request: bytes) -> bytes:
    """Send ``request`` as is; the response head (the connection is closed afterwards)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    return received


def _new_image(server: Server) -> str:
    status, body = server.json("POST", "/v2/images", {
        "name": "framing", "disk_format": "raw", "container_format": "bare"})
    assert status == 201, body
    return str(body["id"])


def _status(server: Server, image_id: str) -> dict[str, object]:
    status, body = server.json("GET", f"/v2/images/{image_id}")
    assert status == 200, body
    return dict(body)


BAD_BODIES = {
    "bad_size": b"zz\r\nabc\r\n0\r\n\r\n",
    "negative_size": b"-3\r\nabc\r\n0\r\n\r\n",
    "missing_terminator": b"3\r\nabcXX0\r\n\r\n",
    "bad_extension": b"3;\x01=x\r\nabc\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("route", ["file", "stage"])
@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_chunked_framing_is_a_400(server: Server, route: str, case: str) -> None:
    image_id = _new_image(server)
    head = _raw(server, (
        f"PUT /v2/images/{image_id}/{route} HTTP/1.1\r\nHost: x\r\n{IDENTITY}"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode() + BAD_BODIES[case])
    assert head.startswith(b"HTTP/1.1 400 "), head
    shown = _status(server, image_id)
    assert shown["status"] == "queued" and shown["size"] is None, shown
    assert not (server.images / image_id).exists()


def test_a_transfer_coding_it_does_not_decode_is_refused(server: Server) -> None:
    image_id = _new_image(server)
    head = _raw(server, (
        f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\n{IDENTITY}"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n").encode())
    assert head.split(b" ")[1] in (b"400", b"501"), head
    assert _status(server, image_id)["status"] == "queued"


def test_malformed_chunked_json_is_a_400(server: Server) -> None:
    head = _raw(server, (
        f"POST /v2/images HTTP/1.1\r\nHost: x\r\n{IDENTITY}"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "zz\r\n{}\r\n0\r\n\r\n").encode())
    assert head.startswith(b"HTTP/1.1 400 "), head
    status, body = server.json("GET", "/v2/images")
    assert status == 200 and all(i["name"] == "framing" for i in body["images"]), json.dumps(body)


def test_nothing_after_broken_framing_is_served_as_a_request(server: Server) -> None:
    """Where the next request would start is unknown: the connection is closed after the 400,
    so bytes smuggled after a broken chunk are never run as a request."""
    image_id = _new_image(server)
    smuggled = f"DELETE /v2/images/{image_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall((
            f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            "zz\r\n").encode() + smuggled)
        received = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    assert received.startswith(b"HTTP/1.1 400 ") and received.count(b"HTTP/1.1 ") == 1, received
    assert _status(server, image_id)["status"] == "queued"
