"""Request ids in every log line, and one access log line per request.

:class:`RequestLog` is the outermost WSGI middleware of the application built by
``bootstrap.build_app`` (WSGI, not a server hook, so it works the same under ``serve``, any
external WSGI server and in tests):

- the request id is the client's ``X-Openstack-Request-Id`` or a new ``req-<uuid>``, put in
  the environ under oslo.middleware's key (``openstack.request_id``), where the application's
  context factory takes it, so the id in the log is the one the response carries;
- an oslo.context ``RequestContext`` holding it is made the thread's current context, so
  oslo.log's formatter prints the request id (and, once the request is authenticated, the
  user and project) in every line logged while the request runs;
- when the response is finished (the server closed it) one access line is logged at INFO on
  ``glance_domain_adapters.wsgi.access``: client address, request line, status, bytes sent
  and duration, as Glance's eventlet server logged them::

      127.0.0.1 "GET /v2/images HTTP/1.1" status: 200 len: 1843 time: 0.0042315

Cost per request: one ``uuid4`` (which the context factory no longer makes), one small
context object and one log record; a file download handed to ``wsgi.file_wrapper`` stays a
file wrapper (sendfile), only its ``close`` is hooked.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from oslo_context import context as oslo_context

WsgiApp = Callable[..., Any]

#: oslo.middleware's environ key for the request id (``oslo_middleware.request_id``).
ENV_REQUEST_ID = "openstack.request_id"
#: Where the application leaves the caller's domain context, for the access line.
ENV_CONTEXT = "glance_domain.context"

ACCESS_LOG = logging.getLogger("glance_domain_adapters.wsgi.access")


class RequestLog:
    """The request-id and access-log middleware (see the module docstring)."""

    def __init__(self, app: WsgiApp, log: logging.Logger = ACCESS_LOG) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        started = time.monotonic()
        request_id = environ.get("HTTP_X_OPENSTACK_REQUEST_ID")
        if not request_id:
            request_id = environ[ENV_REQUEST_ID] = "req-" + str(uuid.uuid4())
        # made the thread's current context (overwrite=True): oslo.log reads it from there
        log_context = _LogContext(request_id=str(request_id)[:128], overwrite=True)
        answer: list[Any] = [None, None]  # status line, Content-Length

        def recording_start_response(status: str, headers: list[tuple[str, str]],
                                     exc_info: Any = None) -> Any:
            answer[0] = status
            for name, value in headers:
                if len(name) == 14 and name.lower() == "content-length":
                    answer[1] = value
            if exc_info is None:  # a server's start_response may take two arguments only
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        def finished(sent: int | None) -> None:
            self._access_line(environ, log_context, answer, sent, started)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            answer[0] = answer[0] or "500 Internal Server Error"
            finished(0)
            raise
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None and isinstance(wrapper, type) and isinstance(body, wrapper):
            _hook_close(body, lambda: finished(None))  # stays a file wrapper (sendfile)
            return body  # type: ignore[return-value]
        return _Finished(body, finished, count=answer[1] is None)

    def _access_line(self, environ: dict[str, Any], log_context: Any, answer: list[Any],
                     sent: int | None, started: float) -> None:
        if not self.log.isEnabledFor(logging.INFO):
            return
        caller = environ.get(ENV_CONTEXT)
        if caller is not None:  # authenticated by now: who it was, in this line too
            log_context.user_id = getattr(caller, "user_id", None)
            log_context.project_id = getattr(caller, "project_id", None)
            log_context.logging_values = None
        length = answer[1] if sent is None else sent
        path = environ.get("PATH_INFO") or "/"
        query = environ.get("QUERY_STRING")
        if query:
            path = f"{path}?{query}"
        self.log.info(
            '%s "%s %s %s" status: %s len: %s time: %.7f',
            environ.get("REMOTE_ADDR") or "-", environ.get("REQUEST_METHOD"), path,
            environ.get("SERVER_PROTOCOL") or "HTTP/1.1",
            str(answer[0] or "-").split(" ", 1)[0], length if length is not None else "-",
            time.monotonic() - started,
        )


class _LogContext(oslo_context.RequestContext):  # type: ignore[misc]
    """oslo.context's request context with its logging values computed once per request
    instead of twice per log line (oslo.log's formatter asks for them for every record)."""

    logging_values: dict[str, Any] | None = None

    def get_logging_values(self) -> dict[str, Any]:
        values = self.logging_values
        if values is None:
            values = self.logging_values = super().get_logging_values()
        return values


def _hook_close(body: Any, callback: Callable[[], None]) -> None:
    """Run ``callback`` after ``body.close()`` (an instance attribute shadows the method)."""
    original = getattr(body, "close", None)

    def close() -> None:
        try:
            if original is not None:
                original()
        finally:
            callback()

    body.close = close


class _Finished:
    """The response body, calling ``finished(bytes sent or None)`` once it is closed;
    ``count``: sum the bytes (no Content-Length was sent)."""

    __slots__ = ("body", "count", "done", "finished", "sent")

    def __init__(self, body: Iterable[bytes], finished: Callable[[int | None], None],
                 *, count: bool) -> None:
        self.body = body
        self.finished = finished
        self.count = count
        self.sent = 0
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        if not self.count:
            return iter(self.body)
        return self._counted()

    def _counted(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finished(self.sent if self.count else None)
