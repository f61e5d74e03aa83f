"""The WSGI application: Glance's Image API v2 over a :class:`glance_domain.gateway.Gateway`.

    >>> app = make_app(gateway, DomainSettings(), context_factory=make_context_factory())

Per request: health check, version negotiation, caller context (from keystonemiddleware's
headers), routing, then the resource's deserializer -> controller -> serializer. Domain errors
become Glance's HTTP errors through the one table in :mod:`.errors`; every response but the
version documents carries ``x-openstack-request-id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import attrs
import webob.exc

from glance_domain.context import RequestContext
from glance_domain.errors import DomainError
from glance_domain.service import ImageService
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi import (
    actions,
    cache,
    image_data,
    images,
    info,
    members,
    metadefs,
    misc,
    openapi,
    schemas,
    tags,
    tasks,
    v1,
)
from glance_domain_adapters.wsgi.context import (
    ContextFactory,
    RequestIdTooLong,
    Unauthenticated,
    make_context_factory,
)
from glance_domain_adapters.wsgi.errors import from_domain, http_error
from glance_domain_adapters.wsgi.http import Request, Response
from glance_domain_adapters.wsgi.resource import (
    BODY_READ_KEY,
    DECODE_ERROR,
    MAX_JSON_BODY_KEY,
    Resource,
    has_body,
    read_json,
)
from glance_domain_adapters.wsgi.routes import Router
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.versions import VersionsDocument, allowed_versions, negotiate
from glance_domain_adapters.wsgi.views import ImageView

LOG = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
REQUEST_ID_HEADER = "x-openstack-request-id"
DRAIN_BUDGET = 64 * 1024 * 1024


class GatewayLike(Protocol):
    def service(self, context: RequestContext) -> ImageService: ...


def schema_documents(settings: DomainSettings) -> dict[str, Any]:
    """Every document served under ``/v2/schemas/``."""
    image = schemas.image_schema(settings.disk_formats, settings.container_formats)
    docs: dict[str, Any] = {
        "image": image,
        "images": schemas.images_schema(image),
        "member": schemas.member_schema(),
        "members": schemas.members_schema(),
        "task": schemas.task_schema(),
        "tasks": schemas.tasks_schema(),
    }
    docs.update(metadefs.schema_documents())
    return docs


class GlanceApp:
    """The WSGI callable (see module docstring)."""

    def __init__(
        self,
        gateway: GatewayLike,
        settings: DomainSettings,
        context_factory: ContextFactory,
        api: ApiSettings,
        *,
        image_cache: Any = None,
        prefetcher: Any = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        if api.enabled_import_methods is None:
            api = attrs.evolve(api, enabled_import_methods=settings.enabled_import_methods)
        self.api = api
        self.context_factory = context_factory
        self.router = Router()
        # Glance lists the cache API's versions (2.14-2.18) when image_cache_dir is set
        self.allowed_versions = allowed_versions(api.multi_store, image_cache is not None)
        self.versions = VersionsDocument(api.multi_store, api.public_endpoint,
                                         image_cache is not None, api.enable_v1_api)
        # the legacy v1 API, only when enabled (its own route table and resources)
        self.v1_router = Router(v1.ROUTE_TABLE) if api.enable_v1_api else None
        documents = schema_documents(settings)
        validator = schemas.SchemaValidator("image", documents["image"])
        view = ImageView(
            show_locations=settings.show_multiple_locations,
            show_direct_url=settings.show_image_direct_url,
            show_stores=api.multi_store,
        )
        self.resources: dict[str, Resource] = {
            "images": images.create_resource(settings, api, view, validator),
            "image_data": image_data.create_resource(api),
            "image_members": members.create_resource(),
            "image_tags": tags.create_resource(validator),
            "image_actions": actions.create_resource(),
            "info": info.create_resource(api),
            "schemas": misc.schemas_resource(documents),
            "tasks": tasks.create_resource(settings.limit_param_default, settings.api_limit_max),
            "cache_manage": cache.create_resource(image_cache, prefetcher),
            "metadefs": metadefs.create_resource(self._metadef_service),
            "openapi": openapi.create_resource(documents),
        }
        if api.enable_v1_api:
            self.resources.update(v1.create_resources(settings, api))
        self._service = gateway.service

    def _metadef_service(self, req: Request) -> Any:
        """The caller's MetadefService (a gateway without metadefs answers 501)."""
        factory = getattr(self.gateway, "metadef_service", None)
        if factory is None:
            raise http_error(501, "Metadata definitions are not supported by this service.")
        return factory(req.context)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        _bound_socket_waits(environ, self.api.client_socket_timeout)
        path = environ.get("PATH_INFO") or ""
        if not path.isascii():
            try:
                path = path.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                return self._error(environ, start_response, http_error(
                    400, "Error decoding your request. Either the URL or the request body "
                    "contained characters that could not be decoded by Glance"), None)
        if _undecodable_header(environ):
            return self._error(environ, start_response, http_error(400, DECODE_ERROR), None)
        if path == "/healthcheck" or path.startswith("/healthcheck/"):
            if environ.get("REQUEST_METHOD") == "HEAD":  # oslo.middleware's healthcheck: 204
                return Response(204, headers=[], app_iter=[])(environ, start_response)
            return Response(200, b"OK", [("Content-Type", "text/plain; charset=UTF-8")])(
                environ, start_response)
        # version discovery first, as Glance's negotiation runs before the request context
        if _is_versions_path(path):
            return self._versions(environ, start_response, 200)
        router = self.router
        v2_path: str | None
        if self.v1_router is not None and (path == "/v1" or path.startswith("/v1/")):
            v2_path, router = path, self.v1_router
        else:
            v2_path = negotiate(path, environ.get("HTTP_ACCEPT", ""), self.allowed_versions)
        if v2_path is None:
            return self._versions(environ, start_response, 300)
        try:
            context = self.context_factory(environ)
        except Unauthenticated:
            return self._error(environ, start_response, http_error(401), None)
        except RequestIdTooLong as too_long:
            return self._error(environ, start_response,
                               webob.exc.HTTPRequestHeaderFieldsTooLarge(comment=str(too_long)),
                               None)
        environ["glance_domain.context"] = context  # for the access log line
        request_id = context.request_id
        if not request_id.startswith("req-"):
            request_id = "req-" + request_id

        if v2_path == "/v2":
            return self._redirect_v2(environ, start_response, request_id)

        method = environ["REQUEST_METHOD"]
        match = router.match(method, v2_path)
        environ[MAX_JSON_BODY_KEY] = self.api.max_json_body_size
        if match.status != 200:
            headers = {"Allow": match.allow} if match.allow else None
            error = http_error(match.status, headers=headers)
            if match.status == 405:
                error = _reject(Request(environ, {}, context, self._service), error)
            return self._error(environ, start_response, error, request_id)
        req = Request(environ, match.urlvars, context, self._service)
        coding = unsupported_transfer_coding(environ)
        if coding is not None:
            return self._error(environ, start_response, http_error(
                501, detail=f"Transfer-Encoding '{coding}' is not supported: only 'chunked' "
                "is."),
                request_id)
        try:
            if match.body_reject and has_body(req):
                raise http_error(400, "A body is not expected with this request.")
            response = self.resources[match.resource](match.action, req)
        except webob.exc.HTTPException as exc:
            return self._error(environ, start_response, exc, request_id)
        except DomainError as err:
            return self._error(environ, start_response,
                               from_domain(err, match.resource, match.action,
                                           variables=match.urlvars), request_id)
        except UnicodeDecodeError:
            return self._error(environ, start_response, http_error(400, DECODE_ERROR),
                               request_id)
        except Exception:
            LOG.exception("Unexpected error handling %s %s", method, path)
            return self._error(environ, start_response, http_error(500), request_id)
        response.headers.append((REQUEST_ID_HEADER, request_id))
        return response(environ, start_response)

    def is_version_discovery(self, environ: dict[str, Any], path: str | None = None) -> bool:
        """Whether the request is answered with the versions document (``/versions``, or a
        path or media type naming no version this API serves). As in Glance, where version
        negotiation runs before authentication and the request context, such a request
        needs no token and no identity: clients discover the API before they log in."""
        if path is None:
            path = environ.get("PATH_INFO") or ""
        if _is_versions_path(path):
            return True
        return negotiate(path, environ.get("HTTP_ACCEPT", ""), self.allowed_versions) is None

    def _versions(
        self, environ: dict[str, Any], start_response: StartResponse, status: int,
    ) -> Iterable[bytes]:
        """The versions document (200 for /versions, 300 for anything unversioned). Glance
        serves it from its version-negotiation layer, outside the middleware that stamps
        ``x-openstack-request-id``, so it carries none."""
        req = Request(environ, {}, RequestContext(), self._service)
        response = self.versions.response(req.application_url, status)
        _drain(environ)
        return response(environ, start_response)

    def _redirect_v2(
        self, environ: dict[str, Any], start_response: StartResponse, request_id: str,
    ) -> Iterable[bytes]:
        """``/v2`` -> ``/v2/``: Glance's URL map answers a bodiless 302 (no Content-Length,
        so the server sends it chunked) with its own spelling of the charset."""
        req = Request(environ, {}, RequestContext(), self._service)
        _drain(environ)
        return Response(302, headers=[
            ("Content-Type", "text/plain; charset=utf8"),
            ("Location", req.application_url + "/v2/"),
            (REQUEST_ID_HEADER, request_id),
        ], app_iter=[])(environ, start_response)

    @staticmethod
    def _error(
        environ: dict[str, Any], start_response: StartResponse, exc: Any,
        request_id: str | None,
    ) -> Iterable[bytes]:
        if request_id is not None:
            exc.headers[REQUEST_ID_HEADER] = request_id
        _drain(environ)
        result: Iterable[bytes] = exc(environ, start_response)
        return result


def _is_versions_path(path: str) -> bool:
    return path == "/versions" or path.startswith("/versions/")


def _undecodable_header(environ: dict[str, Any]) -> bool:
    """Whether an ``X-...`` header (identity, store, request id: the headers whose text the
    service uses) is not UTF-8. WSGI gives header bytes as latin-1 text; bytes that are not
    UTF-8 (an encoded lone surrogate among them) are refused rather than stored as mojibake."""
    for key, value in environ.items():
        if key.startswith("HTTP_X_") and isinstance(value, str) and not value.isascii():
            try:
                value.encode("latin-1").decode("utf-8")
            except UnicodeError:
                return True
    return False


def unsupported_transfer_coding(environ: dict[str, Any]) -> str | None:
    """The request's ``Transfer-Encoding`` when it holds a coding other than ``chunked``
    (``gzip, chunked``...): the servers only remove the chunked framing, so the app would
    read a body it cannot decode (or nothing at all). None when there is no such coding."""
    value = environ.get("HTTP_TRANSFER_ENCODING")
    if not value:
        return None
    codings = [c.strip().lower() for c in str(value).split(",") if c.strip()]
    return None if codings == ["chunked"] else str(value)


def _bound_socket_waits(environ: dict[str, Any], timeout: float | None) -> None:
    """Give gunicorn's client socket ``client_socket_timeout`` for this request's reads and
    writes: its gthread worker hands requests a blocking socket with no timeout, so a client
    that stops sending mid-body (or stops reading a download) would block a worker thread
    forever. gunicorn resets the socket's mode before the next request on the connection."""
    sock = environ.get("gunicorn.socket")
    if timeout is None or sock is None:
        return
    try:
        if sock.gettimeout() is None:
            sock.settimeout(timeout)
    except (OSError, AttributeError):
        return


def _reject(req: Request, not_allowed: webob.exc.HTTPException) -> webob.exc.HTTPException:
    """The answer to a method a route does not allow. Glance's reject controller deserializes
    a body like any other (JSON), so a malformed or non-object body is a 400 before the 405."""
    if has_body(req):
        try:
            read_json(req)
        except webob.exc.HTTPException as exc:
            return exc
    return not_allowed


def _drain(environ: dict[str, Any], budget: int = DRAIN_BUDGET) -> None:
    """Read and drop an unread request body, so a kept-alive connection stays in sync.

    An error answered before the body was consumed (a 409 on upload, a 415...) would otherwise
    leave the body in the connection, where the server would parse it as the next request.
    """
    if environ.get("REQUEST_METHOD") not in ("POST", "PUT", "PATCH"):
        return
    if not environ.get("CONTENT_LENGTH") and not environ.get("HTTP_TRANSFER_ENCODING"):
        return
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    remaining: int | None = None
    length = environ.get("CONTENT_LENGTH")
    if length and str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower() != "chunked":
        try:
            remaining = int(length) - int(environ.get(BODY_READ_KEY, 0))
        except ValueError:
            return
    try:
        while budget > 0 and (remaining is None or remaining > 0):
            size = min(65536, budget) if remaining is None else min(65536, budget, remaining)
            chunk = stream.read(size)
            if not chunk:
                return
            budget -= len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    except Exception:  # a broken body (framing the server refused) ends the drain
        return


def make_app(
    gateway: GatewayLike,
    settings: DomainSettings | ApiSettings | None = None,
    *,
    context_factory: ContextFactory | None = None,
    api_settings: ApiSettings | None = None,
    cache: Any = None,
    prefetcher: Any = None,
) -> GlanceApp:
    """The Image API v2 WSGI application over ``gateway``.

    ``settings`` may be the domain settings (limits, formats, display options) or the
    :class:`~glance_domain_adapters.wsgi.settings.ApiSettings` (HTTP-only options); whichever is
    not given comes from ``api_settings``, ``gateway.settings`` or the defaults.
    ``context_factory`` builds the caller's context from the WSGI environ (default:
    :func:`~glance_domain_adapters.wsgi.context.make_context_factory`).
    ``cache`` (a :class:`~glance_domain_adapters.image_cache.FileImageCache`) and its
    ``prefetcher`` enable the cache management API (``/v2/cache``).
    """
    domain = getattr(gateway, "settings", None)
    if isinstance(settings, DomainSettings):
        domain = settings
    elif isinstance(settings, ApiSettings):
        api_settings = api_settings or settings
    if not isinstance(domain, DomainSettings):
        domain = DomainSettings()
    return GlanceApp(
        gateway,
        domain,
        context_factory or make_context_factory(),
        api_settings or ApiSettings(),
        image_cache=cache,
        prefetcher=prefetcher,
    )


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> Any:
    """paste.deploy entry point: the app built by the composition root from configuration."""
    from glance_domain_adapters import bootstrap  # composition root (platform helper's)

    files = [f for f in (local_conf.get("config_file"), global_conf.get("__file__")) if f]
    conf = bootstrap.load_config([], files[:1])  # type: ignore[attr-defined]
    return bootstrap.build_app(conf)  # type: ignore[attr-defined]
