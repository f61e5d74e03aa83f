"""Image upload bodies, read straight from gunicorn's socket when it is safe to.

gunicorn's ``wsgi.input`` (``Body`` over a ``LengthReader`` over a ``SocketUnreader``) collects
each read through two ``BytesIO`` buffers: a 1 MiB read costs several copies plus Python work
per ``recv``. Measured on the 2-CPU VM of docs/benchmarks.md ("API"): 0.42-0.50 s of CPU per
512 MiB through it against 0.08 s for plain ``recv`` calls on the same socket, while an upload
needs ~1.2 s of CPU for its md5 + sha512 and must share the two cores with them.

:func:`iter_upload_body` therefore reads a ``Content-Length`` body from ``gunicorn.socket``
directly when the request's input is exactly that gunicorn stack and nothing has been read from
it yet. It first takes the bytes gunicorn already holds past the headers, and keeps gunicorn's
``LengthReader.length`` (and :data:`BODY_READ_KEY`) in step after every ``recv``, so the
error-path drain in ``app.py`` and gunicorn's keep-alive handling still see how much of the body
is left. Anything else (another server, chunked bodies, a partly read input) goes through
:func:`~glance_domain_adapters.wsgi.resource.iter_body` unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from glance_domain_adapters.wsgi.http import Request
from glance_domain_adapters.wsgi.resource import BODY_READ_KEY, CHUNK_SIZE, iter_body


def _gunicorn_reader(environ: dict[str, Any], length: int) -> tuple[Any, Any, Any] | None:
    """(body, LengthReader, socket) of an untouched gunicorn Content-Length body, else None."""
    sock: Any = environ.get("gunicorn.socket")
    body: Any = environ.get("wsgi.input")
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    if (
        sock is None
        or type(body).__module__ != "gunicorn.http.body"
        or type(reader).__name__ != "LengthReader"
        or type(unreader).__name__ != "SocketUnreader"
        or getattr(unreader, "sock", None) is not sock
        or getattr(reader, "length", None) != length
        or not isinstance(getattr(body, "buf", None), io.BytesIO)
        or body.buf.tell() != 0
        or not isinstance(getattr(unreader, "buf", None), io.BytesIO)
    ):
        return None
    return body, reader, sock


def iter_upload_body(req: Request, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The request body as ``bytes`` chunks of ``chunk_size`` (the last one shorter).

    Same contract as :func:`~glance_domain_adapters.wsgi.resource.iter_body`: exactly
    Content-Length bytes, ``OSError`` if the client goes away first, one chunk in memory at a
    time; nothing is read before the first chunk is asked for.
    """
    environ = req.environ
    length = req.content_length
    found = None
    if length is not None and req.transfer_encoding != "chunked":
        found = _gunicorn_reader(environ, length)
    if found is None or length is None:
        return iter_body(req, chunk_size)
    return _direct(environ, *found, length, chunk_size)


def _direct(
    environ: dict[str, Any], body: Any, reader: Any, sock: Any, length: int, chunk_size: int
) -> Iterator[bytes]:
    """Chunks of ``length`` body bytes from gunicorn's buffer, then from its socket."""
    unreader = reader.unreader
    # what gunicorn read past the headers; anything beyond the body goes back (pipelining)
    held = unreader.buf.getvalue()
    unreader.buf = io.BytesIO()
    if len(held) > length:
        unreader.buf.write(held[length:])
        held = held[:length]
    remaining = length
    pending = held  # received, not yet handed out
    try:
        while remaining > 0:
            want = min(chunk_size, remaining)
            if len(pending) >= want:
                chunk, pending = pending[:want], pending[want:]
            else:
                parts = [pending] if pending else []
                size = len(pending)
                pending = b""
                while size < want:
                    data = sock.recv(want - size)
                    if not data:
                        raise OSError(
                            f"Client disconnected: {length - remaining + size} of {length} "
                            "bytes received"
                        )
                    parts.append(data)
                    size += len(data)
                chunk = parts[0] if len(parts) == 1 else b"".join(parts)
            # gunicorn's reader and the drain in app.py count what is left of the body
            remaining -= want
            reader.length = remaining
            environ[BODY_READ_KEY] = length - remaining
            yield chunk
    except OSError:
        body.failed = True  # the connection's position in the stream is unknown: not reused
        raise
