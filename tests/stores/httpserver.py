"""A real HTTP server on 127.0.0.1 for the http driver tests (Range, HEAD, redirects)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Site:
    """What the server serves: ``files`` by path, ``redirects`` path -> Location."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.honour_ranges = True
        #: Like many real servers: HEAD refused (e.g. S3 presigned GET URLs), and a body sent
        #: with chunked transfer coding (no Content-Length).
        self.head_allowed = True
        self.chunked = False
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.base = ""


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self, body: bool) -> None:
            site.requests.append((self.command, self.path, dict(self.headers)))
            if self.path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = site.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            if not body and not site.head_allowed:
                self.send_error(405)
                return
            if site.chunked and body:
                self._send_chunked(data)
                return
            status, start, end = 200, 0, len(data)
            match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
            if match and site.honour_ranges and self.command == "GET":
                start, end = int(match[1]), min(int(match[2]) + 1, len(data))
                status = 206
            self.send_response(status)
            self.send_header("Content-Length", str(end - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.end_headers()
            if body:
                self.wfile.write(data[start:end])

        def _send_chunked(self, data: bytes) -> None:
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for start in range(0, len(data), 50_000):
                piece = data[start:start + 50_000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

        def do_GET(self) -> None:
            self._serve(True)

        def do_HEAD(self) -> None:
            self._serve(False)

    return Handler


@contextmanager
def serve() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
