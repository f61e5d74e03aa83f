"""gunicorn worker that reads each request head in its event loop before using a thread.

gunicorn's ``gthread`` worker hands a connection to a pool thread as soon as its first byte
arrives, and the thread then reads the request line and headers with blocking ``recv`` calls.
A client that sends its headers one line every few seconds ("slowloris") holds that thread for
as long as it likes: with ``worker_threads`` (8) such connections per worker process nothing
else is answered, not even ``/healthcheck``, and no credentials are needed.

:class:`HeadFirstWorker` keeps gthread's design (a selector loop in the main thread, a thread
pool for requests, the same keep-alive handling, ``wsgi.file_wrapper``/sendfile responses,
streamed request bodies) and changes one thing: a connection only reaches the thread pool once
its whole request head (request line and headers, up to the blank line) has arrived. Until
then the main loop reads whatever the socket holds without blocking and keeps the bytes; the
pool thread's parser then finds the complete head in gunicorn's buffer (the body, if any, is
read and streamed by the application as before, from the bytes already received on). A
connection whose head is not complete ``header_timeout`` seconds after it was accepted (or
after its first byte, for the next request on a kept-alive connection) is closed, and a head
larger than :data:`MAX_HEAD_BYTES` is answered 431. Idle kept-alive connections keep
gunicorn's ``keepalive`` timeout.

A waiting connection costs a socket and its buffered bytes, no thread; the number of open
connections per worker stays capped by gunicorn's ``worker_connections`` (1000).

TLS is not terminated by ``glance-domain serve`` (put a proxy in front), so the bytes read here
are always plain HTTP/1.x. With gunicorn's own TLS or HTTP/2 options turned on (not something
``serve`` does) the worker falls back to gthread's behaviour.
"""

from __future__ import annotations

import collections
import errno
import selectors
import time
from typing import Any

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

from glance_domain_adapters import server_headers

#: Largest request head (request line + headers) kept while waiting for its end, in bytes.
#: Glance's eventlet server refuses more than 64 KiB of headers; a longer ``max_header_line``
#: raises it so that one line of that length always fits.
MAX_HEAD_BYTES = 65536
#: Bytes read per ``recv`` while waiting for a head.
RECV_SIZE = 65536
_END = b"\r\n\r\n"
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
              b"Content-Type: text/plain\r\nContent-Length: 32\r\n\r\n"
              b"Request header fields too large\n")


def head_length(data: bytes | bytearray) -> int | None:
    """The length of the request head at the start of ``data`` (to its blank line), the
    length of ``data`` if gunicorn's parser can answer it without reading more (a bare LF,
    which it refuses at once), or None while the head is incomplete."""
    start = 2 if data[:2] == b"\r\n" else 0  # one empty line before the request line is allowed
    end = data.find(_END, start)
    if end >= 0:
        return end + len(_END)
    # ("GET / HTTP/1.0\r\n\r\n", a request line followed by the blank line, is found above)
    if data.count(b"\n") != data.count(b"\r\n"):
        return len(data)
    return None


class HeadFirstWorker(ThreadWorker):  # type: ignore[misc]
    """``gthread`` worker whose threads only ever see requests with a complete head."""

    #: Seconds a connection has to send a complete request head (set per server).
    header_timeout: float = 30.0
    #: Largest head accepted (set per server from ``max_header_line``).
    max_head_bytes: int = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # connections whose head is still arriving, oldest deadline first (all get the same
        # timeout, so appending keeps the order)
        self.heading: collections.deque[Any] = collections.deque()

    def _plain_http1(self, conn: Any) -> bool:
        return not (self.cfg.is_ssl or negotiation.prior_knowledge_allowed(self.cfg,
                                                                           conn.client))

    # -- where connections enter the thread pool --------------------------------------------
    def enqueue_req(self, conn: Any) -> None:
        """Hand ``conn`` to a thread if its next request head is complete, else wait for it
        in the event loop. gthread calls this for new connections, kept-alive connections
        that became readable, and connections with bytes already buffered after a request."""
        if not self._plain_http1(conn) or getattr(conn, "head_ready", False):
            conn.head_ready = False
            super().enqueue_req(conn)
            return
        buffered = b""
        if conn.parser is not None:
            buffered = conn.parser.unreader.take_buffered()
        conn.head = bytearray(buffered)
        conn.head_deadline = time.monotonic() + self.header_timeout
        if conn.head and self._head_done(conn):
            return
        conn.sock.setblocking(False)
        self.heading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, lambda _sock: self._read_head(conn))

    def _read_head(self, conn: Any) -> None:
        """Read what the socket holds (never blocking); dispatch once the head is complete."""
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno not in (errno.ECONNRESET, errno.ENOTCONN, errno.EPIPE,
                                 errno.ETIMEDOUT):
                self.log.debug("error reading a request head: %s", exc)
            self._drop(conn)
            return
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.head += data
        if head_length(conn.head) is not None or len(conn.head) > self.max_head_bytes:
            self._forget(conn)  # before a thread may touch the socket
            self._head_done(conn)

    def _head_done(self, conn: Any) -> bool:
        """Answer 431 and close ``conn`` if its head is (or will be) larger than
        ``max_head_bytes``, else dispatch it if its head is complete; False if neither."""
        length = head_length(conn.head)
        if (len(conn.head) if length is None else length) > self.max_head_bytes:
            try:
                conn.sock.send(_TOO_LARGE)
            except OSError:
                pass
            self._close(conn)
            return True
        if length is None:
            return False
        data, conn.head = bytes(conn.head), None
        conn.init()  # plain HTTP/1: only builds the parser, reads nothing
        server_headers.install(conn.parser)  # v1's x-image-meta-*_* header names
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        conn.head_ready = True
        self.enqueue_req(conn)
        return True

    # -- bookkeeping ------------------------------------------------------------------------
    def _forget(self, conn: Any) -> None:
        """Stop watching ``conn`` for head bytes (it was dispatched or is being closed)."""
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self.heading.remove(conn)
        except ValueError:
            pass

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def _drop(self, conn: Any) -> None:
        self._forget(conn)
        self._close(conn)

    def murder_heading(self) -> None:
        """Close connections whose head did not arrive within ``header_timeout``."""
        now = time.monotonic()
        while self.heading and self.heading[0].head_deadline <= now:
            conn = self.heading.popleft()
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
            self.log.debug("closing a connection that sent no complete request head within "
                           "%s s", self.header_timeout)
            self._close(conn)

    # gthread's loop calls these two after every turn (and while stopping): the head
    # deadlines are checked there too.
    def murder_pending(self) -> None:
        super().murder_pending()
        self.murder_heading()
        if not self.alive:  # stopping: a request that has not arrived yet is not awaited
            while self.heading:
                self._drop(self.heading[0])
