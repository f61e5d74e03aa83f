"""A minimal request/response pair for the hot path (webob is used only for errors).

Constructing webob objects and parsing through them costs more than the rest of a simple
``GET /v2/images/{id}``; these small classes read only what a handler asks for, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from glance_domain.context import RequestContext
from glance_domain.service import ImageService

JSON_TYPE = "application/json"
_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def status_line(code: int) -> str:
    return _REASONS.get(code) or f"{code} Unknown"


class Request:
    """One HTTP request: environ, routing variables, caller context and its service."""

    __slots__ = ("__dict__", "_service", "_service_factory", "context", "environ", "urlvars")

    def __init__(
        self,
        environ: dict[str, Any],
        urlvars: Mapping[str, str],
        context: RequestContext,
        service_factory: Callable[[RequestContext], ImageService],
    ) -> None:
        self.environ = environ
        self.urlvars = urlvars
        self.context = context
        self._service_factory = service_factory
        self._service: ImageService | None = None

    @property
    def service(self) -> ImageService:
        """The caller's ImageService (built on first use)."""
        svc = self._service
        if svc is None:
            svc = self._service = self._service_factory(self.context)
        return svc

    @property
    def method(self) -> str:
        return str(self.environ["REQUEST_METHOD"])

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header by its HTTP name (``Content-Type``, ``X-Image-Meta-Store``...)."""
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            value = self.environ.get(key)
            return value if value not in (None, "") else default
        return self.environ.get("HTTP_" + key, default)

    @cached_property
    def params(self) -> list[tuple[str, str]]:
        """Query parameters in order, blank values kept (as webob's ``GET``). Percent-escapes
        that are not UTF-8 (an encoded lone surrogate such as ``%ED%A0%80``) raise
        UnicodeDecodeError, which the app answers with a 400, instead of becoming U+FFFD."""
        qs = self.environ.get("QUERY_STRING", "")
        if not qs:
            return []
        return parse_qsl(qs, keep_blank_values=True, errors="strict")

    @property
    def content_type(self) -> str:
        """The media type of the body without parameters ('' when absent)."""
        value = self.environ.get("CONTENT_TYPE") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        value = self.environ.get("CONTENT_LENGTH")
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            return None

    @property
    def transfer_encoding(self) -> str:
        return str(self.environ.get("HTTP_TRANSFER_ENCODING", "")).lower()

    @cached_property
    def application_url(self) -> str:
        """``scheme://host[:port]`` + SCRIPT_NAME, as webob computes it."""
        env = self.environ
        scheme = env.get("wsgi.url_scheme", "http")
        host = env.get("HTTP_HOST")
        if not host:
            host = env.get("SERVER_NAME", "localhost")
            port = str(env.get("SERVER_PORT", ""))
            if port and not (
                (scheme == "http" and port == "80") or (scheme == "https" and port == "443")
            ):
                host = f"{host}:{port}"
        else:
            if scheme == "http" and host.endswith(":80"):
                host = host[:-3]
            elif scheme == "https" and host.endswith(":443"):
                host = host[:-4]
        return f"{scheme}://{host}{env.get('SCRIPT_NAME', '')}"


class Response:
    """Status, headers and a body (bytes or an iterable of bytes with an optional close)."""

    __slots__ = ("app_iter", "body", "headers", "status")

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        app_iter: Iterable[bytes] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else []
        self.app_iter = app_iter

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        headers = self.headers
        if self.app_iter is None:
            body = self.body
            headers.append(("Content-Length", str(len(body))))
            start_response(status_line(self.status), headers)
            if environ["REQUEST_METHOD"] == "HEAD":
                return []
            return [body]
        start_response(status_line(self.status), headers)
        return self.app_iter


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response encoded like Glance's (``json.dumps`` defaults, UTF-8, not ASCII)."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("Content-Type", JSON_TYPE)])


def empty_response(status: int = 204) -> Response:
    """An empty body, with the Content-Type webob gives Glance's empty responses."""
    return Response(status, b"", [("Content-Type", "text/html; charset=UTF-8")])


def bare_response(status: int = 204) -> Response:
    """No body and no entity headers at all (neither Content-Type nor Content-Length): what
    Glance's download of an image without data and its member delete answer."""
    return Response(status, headers=[], app_iter=[])


class ClosingIterator:
    """Iterates ``chunks`` and calls ``close`` when the server is done with the body."""

    __slots__ = ("_chunks", "_close")

    def __init__(self, chunks: Iterable[bytes], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        self._close()
