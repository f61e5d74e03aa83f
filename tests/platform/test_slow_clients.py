"""Slow clients (slowloris) against the real ``glance-domain serve`` (issue 12, section 2).

200 connections from one client send a request head one line at a time; ``/healthcheck`` and
``GET /v2/images`` must still answer within 1 s (the issue's bound), and a connection that has
not sent a complete head within ``client_header_timeout`` is closed, whether it is silent or
keeps trickling. The server runs with its defaults (worker processes per CPU, 8 threads each)
apart from the short head timeout, so that the test does not wait 30 s.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.platform.conftest import file_store_server

HEAD_TIMEOUT = 6
SLOW_CLIENTS = 200


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with file_store_server(tmp_path_factory.mktemp("slow-clients"),
                           f"client_header_timeout = {HEAD_TIMEOUT}\n") as (port, _proc):
        yield port


def _timed_get(port: int, path: str) -> tuple[int, bytes, float]:
    """GET ``path`` on a new connection, waiting at most 1 s for each socket operation:
    (status, body, seconds taken)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, time.monotonic() - started
    finally:
        conn.close()


def _slow_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /v2/images HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_slow_clients_do_not_stall_the_api(port: int) -> None:
    slow = [_slow_client(port) for _ in range(SLOW_CLIENTS)]
    try:
        for line in range(3):  # a header line from every slow client each second
            for number, sock in enumerate(slow):
                sock.sendall(f"X-Slow-{line}: {number}\r\n".encode())
            status, body, took = _timed_get(port, "/healthcheck")
            assert (status, took < 1.0) == (200, True), (status, body, took)
            status, body, took = _timed_get(port, "/v2/images")
            assert (status, took < 1.0) == (200, True), (status, body, took)
            assert json.loads(body)["images"] == []
            time.sleep(1)
        # still open (no timeout yet): finishing the head gets an answer
        slow[0].sendall(b"\r\n")
        slow[0].settimeout(5)
        assert slow[0].recv(64).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in slow:
            sock.close()


def test_a_connection_without_a_complete_head_is_closed_after_the_timeout(port: int) -> None:
    started = time.monotonic()
    silent = _slow_client(port)
    trickling = _slow_client(port)
    try:
        assert not _closed_by_server(silent, within=1.0)
        deadline = started + HEAD_TIMEOUT + 3
        closed = False
        while not closed and time.monotonic() < deadline:  # a line every 0.5 s does not help
            try:
                trickling.sendall(b"X-Trickle: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            closed = _closed_by_server(trickling, within=0.5)
        assert closed, "a connection still sending its head was kept past the timeout"
        assert time.monotonic() - started >= HEAD_TIMEOUT - 1
        assert _closed_by_server(silent, within=3.0)
    finally:
        silent.close()
        trickling.close()


def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        assert (resp.status, resp.read(), resp.will_close) == (200, b"OK", False)
        started = time.monotonic()
        sock.sendall(b"GET /v2/images HTTP/1.1\r\n")  # ... and nothing more
        assert _closed_by_server(sock, within=HEAD_TIMEOUT + 3)
        assert time.monotonic() - started >= HEAD_TIMEOUT - 1
    finally:
        sock.close()


@pytest.mark.parametrize("at_once", [False, True])
def test_a_head_larger_than_64_kib_is_refused_with_431(port: int, at_once: bool) -> None:
    lines = [f"X-Big-{number}: {'a' * 8000}\r\n" for number in range(9)]  # each < max_header_line
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if at_once:  # complete, in one write
            sock.sendall(("GET /v2/images HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(lines)
                          + "\r\n").encode())
        else:  # line by line, never finished
            sock.sendall(b"GET /v2/images HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            for line in lines:
                sock.sendall(line.encode())
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431 "), answer
        assert _closed_by_server(sock, within=3)
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the connection was closed without an answer")
    finally:
        sock.close()


def test_head_length() -> None:
    from glance_domain_adapters.server_worker import head_length

    assert head_length(b"GET / HTTP/1.1\r\nHost: x\r\n") is None
    assert head_length(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27
    assert head_length(b"GET / HTTP/1.0\r\n\r\n") == 18
    assert head_length(b"\r\nGET / HTTP/1.0\r\n\r\n") == 20  # one empty line first is allowed
    assert head_length(b"\r\n\r\n") is None  # ... and is not the end of a head
    assert head_length(b"GET / HTTP/1.1\nHost") == 19  # a bare LF: gunicorn refuses it at once
