"""Resources (deserializer / controller / serializer sharing action names) and body helpers."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import attrs

from glance_domain_adapters.wsgi.errors import bad_request, http_error
from glance_domain_adapters.wsgi.http import Request, Response, json_response

#: Bytes asked of ``wsgi.input`` per read. Large reads matter for uploads: with gunicorn, 64 KiB
#: reads cap a loopback upload near 250 MB/s while 1 MiB reads pass 800 MB/s (bench/bench_api.py);
#: a read never asks for more than the remaining Content-Length, so small bodies are unaffected.
CHUNK_SIZE = 1 << 20
#: environ key counting the body bytes read so far (so the rest can be drained after an error).
BODY_READ_KEY = "glance_domain.body_read"
_VALID_TRANSFER_ENCODINGS = frozenset({"chunked", "compress", "deflate", "gzip", "identity"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: environ key of the largest JSON body accepted (set by the app from ``ApiSettings``).
MAX_JSON_BODY_KEY = "glance_domain.max_json_body"
DEFAULT_MAX_JSON_BODY = 1 << 20
#: Deepest nesting of arrays and objects a JSON body may have. Checked on the raw bytes before
#: parsing: Python's parser, the schema validator and its error messages all recurse, and a few
#: hundred levels (under 1 KiB) would exhaust the interpreter's stack. No Glance document nests
#: deeper than about ten levels.
MAX_JSON_DEPTH = 32
#: The text Glance answers for a request it cannot decode (used for invalid Unicode too).
DECODE_ERROR = ("Error decoding your request. Either the URL or the request body contained "
                "characters that could not be decoded by Glance")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class MalformedBody(OSError):
    """The server could not decode the request body's framing (a bad chunk size, a missing
    chunk terminator, a bad chunk extension...): the body cannot be read, like a body whose
    client went away, and is answered the same way (400; an upload leaves the image queued)."""


def _read(stream: Any, size: int) -> bytes:
    """``stream.read(size)``, with the server's framing errors (gunicorn raises its own
    exception classes, other servers ValueError) as :class:`MalformedBody`."""
    try:
        data: bytes = stream.read(size)
    except OSError:
        raise
    except Exception as exc:
        raise MalformedBody(f"malformed request body: {exc}") from None
    return data


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of the JSON text ``raw`` nest (strings skipped),
    computed without parsing or recursion.

    >>> json_depth(b'{"a": [1, {"b": "]]]"}]}')
    3
    """
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    return max(itertools.accumulate(_STEP[c] for c in brackets), default=0)


def has_invalid_unicode(data: Any) -> bool:
    """Whether any string (key or value) of the parsed JSON ``data`` is not valid Unicode (a
    lone surrogate such as ``"\\ud800"``, which no database column or UTF-8 text can hold)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def has_body(req: Request) -> bool:
    """Whether the request carries a body (Glance's test: a transfer coding, or a length)."""
    if req.transfer_encoding in _VALID_TRANSFER_ENCODINGS and req.method in _BODY_METHODS:
        return True
    length = req.content_length
    return length is not None and length > 0


def iter_body(req: Request, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The request body as chunks, never holding more than one chunk in memory.

    With a Content-Length exactly that many bytes are read (a short body raises ``IOError``:
    the client went away); without one (chunked transfer coding) the server's decoded input is
    read to its end.
    """
    environ = req.environ
    stream = environ["wsgi.input"]
    length = req.content_length
    if length is not None and req.transfer_encoding != "chunked":
        remaining = length
        while remaining > 0:
            chunk = _read(stream, min(chunk_size, remaining))
            if not chunk:
                raise OSError(
                    f"Client disconnected: {length - remaining} of {length} bytes received"
                )
            remaining -= len(chunk)
            environ[BODY_READ_KEY] = length - remaining
            yield chunk
        return
    if req.transfer_encoding in _VALID_TRANSFER_ENCODINGS:
        while True:
            chunk = _read(stream, chunk_size)
            if not chunk:
                return
            yield chunk


def _too_large(limit: int) -> Exception:
    return http_error(413, f"The JSON request body exceeds the maximum of {limit} bytes.")


def read_json(req: Request) -> Any:
    """The JSON body: 400 when absent, malformed, or neither an object nor an array."""
    if not has_body(req):
        raise bad_request("Body expected in request.")
    limit = req.environ.get(MAX_JSON_BODY_KEY, DEFAULT_MAX_JSON_BODY)
    length = req.content_length
    if length is not None and length > limit and req.transfer_encoding != "chunked":
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in iter_body(req, min(CHUNK_SIZE, limit + 1)):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
    except OSError as exc:
        raise bad_request(f"Error reading the request body: {exc}") from None
    raw = b"".join(parts)
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
        raise bad_request(
            f"The JSON request body nests more than {MAX_JSON_DEPTH} levels deep.")
    try:
        data = json.loads(raw)
    except RecursionError:  # pragma: no cover - the depth check above comes first
        raise bad_request("Malformed JSON in request body.") from None
    except ValueError:
        raise bad_request("Malformed JSON in request body.") from None
    if not isinstance(data, dict | list):
        raise bad_request("Unexpected body type. Expected list/dict.")
    if has_invalid_unicode(data):
        raise bad_request(DECODE_ERROR)
    return data


class Deserializer:
    """Default deserializer: an action without a method takes no arguments."""


class Serializer:
    """Default serializer: a JSON document of whatever the controller returned."""

    def default(self, req: Request, result: Any) -> Response:
        return json_response(result)


@attrs.frozen
class Resource:
    """Runs ``deserializer.<action>`` -> ``controller.<action>`` -> ``serializer.<action>``."""

    name: str
    controller: Any
    deserializer: Any = attrs.field(factory=Deserializer)
    serializer: Any = attrs.field(factory=Serializer)

    def __call__(self, action: str, req: Request) -> Response:
        deserialize = getattr(self.deserializer, action, None)
        kwargs = deserialize(req) if deserialize is not None else {}
        result = getattr(self.controller, action)(req, **kwargs)
        serialize = getattr(self.serializer, action, None) or self.serializer.default
        response: Response = serialize(req, result)
        return response
