"""CORS, and the answer to ``OPTIONS``, as Glance's pipeline gives them.

Glance puts oslo.middleware's CORS filter in front of everything. With ``[cors]
allowed_origin`` configured it adds the ``Access-Control-*`` headers to answers and to
preflight (``OPTIONS``) requests. Even without it, the filter rewrites every ``OPTIONS``
answer that is not 2xx (a 405, a 401, a 404...) into an empty 200 without a Content-Type, so a
browser's preflight never sees an error. We wrap the application in oslo.middleware's own
filter when origins are configured (the same code, the same options, Glance's defaults for
the allowed/exposed headers and methods); otherwise :class:`OptionsAnswer` does only the
``OPTIONS`` rewrite, without building webob objects for every request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg
from oslo_middleware import cors

WsgiApp = Callable[..., Any]

#: Glance's defaults for the ``[cors]`` options (the headers its API uses).
GLANCE_CORS_DEFAULTS: dict[str, list[str]] = {
    "allow_headers": ["Content-MD5", "X-Image-Meta-Checksum", "X-Storage-Token",
                      "Accept-Encoding", "X-Auth-Token", "X-Identity-Status", "X-Roles",
                      "X-Service-Catalog", "X-User-Id", "X-Tenant-Id",
                      "X-OpenStack-Request-ID"],
    "expose_headers": ["X-Image-Meta-Checksum", "X-Auth-Token", "X-Subject-Token",
                       "X-Service-Token", "X-OpenStack-Request-ID"],
    "allow_methods": ["GET", "PUT", "POST", "DELETE", "PATCH"],
}


def cors_opts() -> list[cfg.Opt]:
    """oslo.middleware's ``[cors]`` options, with Glance's defaults."""
    cors.set_defaults(**GLANCE_CORS_DEFAULTS)
    return list(cors.CORS_OPTS)


class OptionsAnswer:
    """``OPTIONS`` answers that are not 2xx become an empty 200 (no Content-Type), as oslo's
    CORS filter makes them; every other request passes straight through."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "OPTIONS":
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        answer: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                    ) -> Callable[[bytes], None]:
            answer[:] = [status, headers]
            return lambda data: None

        body = self.app(environ, capture)
        status = str(answer[0]) if answer else "500"
        if status[:1] == "2":
            start_response(status, answer[1])
            return body  # type: ignore[no-any-return]
        close = getattr(body, "close", None)
        if close is not None:
            close()
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]


def wrap_cors(conf: cfg.ConfigOpts, app: WsgiApp) -> WsgiApp:
    """The outermost layer of the API: oslo.middleware's CORS filter when ``[cors]
    allowed_origin`` is set, else :class:`OptionsAnswer`."""
    if conf.cors.allowed_origin:
        return cors.CORS(app, conf)
    return OptionsAnswer(app)


class HealthcheckOutside:
    """``/healthcheck`` to ``health``, everything else to ``api`` (CORS, authentication...):
    as in Glance, where the health check is mounted beside the API pipeline, load balancers
    probe it without credentials."""

    def __init__(self, health: WsgiApp, api: WsgiApp) -> None:
        self.health = health
        self.api = api

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        target = self.health if path == "/healthcheck" or path.startswith("/healthcheck/") \
            else self.api
        return target(environ, start_response)  # type: ignore[no-any-return]
