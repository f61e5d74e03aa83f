"""Assemble the OpenAPI 3.1 document from the route table and the served JSON schemas.

Paths and methods come from ``routes.ROUTE_TABLE`` (plus the few paths the app answers before
routing: ``/``, ``/versions``, ``/healthcheck``); what each handler takes and answers comes from
``operations.OPERATIONS``; the schemas are the documents the service validates with. A handler
without an entry, or an entry without a route, raises :class:`DocumentError`, so the document
cannot silently drift from the code. A route that the router never reaches because an earlier
template shadows it (``POST /v2/cache/clean``, as in Glance) is described as what it answers:
405.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from glance_domain_adapters.wsgi.http import Request, Response
from glance_domain_adapters.wsgi.openapi import components
from glance_domain_adapters.wsgi.openapi.operations import (
    JSON,
    OCTET,
    OPERATIONS,
    Op,
    Reply,
    schema_operation,
)
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.routes import ROUTE_TABLE, Methods, Route, Router

LOG = logging.getLogger(__name__)
OPENAPI_VERSION = "3.1.0"
REQUEST_ID = "x-openstack-request-id"
_TEXT = {"type": "string"}
_BINARY = {"type": "string", "format": "binary"}

DESCRIPTION = """\
OpenStack Glance's Image API v2 as served by glance-domain. Every `/v2` path is also reachable \
under a versioned prefix (`/v2.0` ... `/v2.18`, as the versions list says) or with \
`Accept: application/vnd.openstack.images-v2.N`. Errors are rendered as JSON, HTML or plain \
text according to `Accept`. Image list filters also accept any extra property name (equality). \
Generated from the route table and the JSON schemas the service validates with; see \
docs/api.md for the behaviour in words."""


class DocumentError(Exception):
    """The route table and the operations table disagree."""


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _content(media: str, body: str) -> dict[str, Any]:
    if body == "binary":
        return {media: {"schema": dict(_BINARY)}}
    return {media: {"schema": components.ref(body)}}


def _reply(reply: Reply, request_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    headers: dict[str, Any] = {}
    if request_id:
        headers[REQUEST_ID] = _ref("headers", "RequestId")
    if reply.location:
        headers["Location"] = {"description": "Absolute URL of the new resource",
                               "required": True, "schema": dict(_TEXT)}
    if headers:
        out["headers"] = headers
    if reply.body is not None:
        out["content"] = _content(OCTET if reply.body == "binary" else JSON, reply.body)
    return out


def _operation(resource: str, action: str, op: Op, path_names: tuple[str, ...],
               shadowed_by: str | None) -> dict[str, Any]:
    params = [_ref("parameters", f"path.{n}") for n in path_names]
    params += [_ref("parameters", p) for p in (*op.query, *op.headers)]
    out: dict[str, Any] = {
        "operationId": f"{resource}.{action}".replace("/", "."),
        "tags": [op.tag],
        "summary": op.summary,
    }
    if params:
        out["parameters"] = params
    if shadowed_by is not None:
        out["description"] = (f"Never reached: {shadowed_by} matches first (as in Glance's "
                              "router), so this answers 405.")
        out["responses"] = {"405": _ref("responses", "Error405")}
        return out
    if op.body:
        content = {}
        for media, schema in op.body.items():
            entry = next(iter(_content(media, schema).values()))
            if media == JSON:  # Glance's documents have no top-level type: bodies are objects
                entry["schema"] = {"type": "object", "allOf": [entry["schema"]]}
            content[media] = entry
        out["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {
        status: _reply(reply, True) for status, reply in op.replies.items()}
    for status in sorted({*components.COMMON_ERRORS, *op.errors}):
        responses[status] = _ref("responses", f"Error{status}")
    out["responses"] = responses
    return out


#: What a handler without a description gets when the document is built leniently.
UNDESCRIBED = Op("undescribed", "Not described yet", {})


def _handler_op(resource: str, action: str, strict: bool) -> Op:
    if resource == "schemas":
        return schema_operation(action)
    try:
        return OPERATIONS[(resource, action)]
    except KeyError:
        message = f"no OpenAPI description for handler {resource}.{action}"
        if strict:
            raise DocumentError(message) from None
        LOG.warning("%s (run the tests: tests/wsgi/test_openapi.py)", message)
        return UNDESCRIBED


def _sample_path(route: Route) -> str:
    """A concrete path of the template (variables as ``sample-<name>``)."""
    return "/" + "/".join(seg if seg is not None else f"sample-{name}"
                          for seg, name in _zip_names(route))


def _zip_names(route: Route) -> list[tuple[str | None, str]]:
    names = iter(route.names)
    return [(seg, "" if seg is not None else next(names)) for seg in route.segments]


def _first_template(table: tuple[tuple[str, Methods, str | None], ...], path: str) -> str:
    """The first template of ``table`` that ``path`` matches (the one the router uses)."""
    parts = path[1:].split("/")
    for template, methods, allow in table:
        route = Route.parse(template, methods, allow)
        if len(route.segments) == len(parts) and route.match(parts) is not None:
            return template
    return "another route"


def v2_paths(
    table: tuple[tuple[str, Methods, str | None], ...] = ROUTE_TABLE, *, strict: bool = True,
) -> dict[str, Any]:
    """The ``paths`` object of every route in ``table``; ``strict``: a handler without a
    description, or a description without a route, raises :class:`DocumentError` (else the
    handler is listed as undescribed and a warning logged)."""
    router = Router(table)
    paths: dict[str, Any] = {}
    used: set[tuple[str, str]] = set()
    for template, methods, allow in table:
        route = Route.parse(template, methods, allow)
        sample = _sample_path(route)
        item = paths.setdefault(template, {})
        for method, (resource, action, _reject) in methods.items():
            op = _handler_op(resource, action, strict)
            used.add((resource, action))
            match = router.match(method, sample)
            shadowed = None
            if (match.resource, match.action) != (resource, action):
                shadowed = _first_template(table, sample)
            item[method.lower()] = _operation(resource, action, op, route.names, shadowed)
    unused = set(OPERATIONS) - used
    if unused and strict:
        raise DocumentError(f"OpenAPI descriptions without a route: {sorted(unused)}")
    return paths


def unversioned_paths() -> dict[str, Any]:
    """What the app answers before routing (no authentication needed for these)."""
    versions = {"content": {JSON: {"schema": components.ref("Versions")}}}
    health = {
        "text/plain": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
        "application/json": {"schema": {
            "type": "object", "required": ["reasons"],
            "properties": {"detailed": {"type": "boolean"},
                           "reasons": {"type": "array"}}}},
    }
    return {
        "/": {"get": {
            "operationId": "versions.multiple_choices", "tags": ["versions"],
            "summary": "Any unversioned path: the versions list", "security": [],
            "responses": {"300": {"description": "The versions list", **versions}}}},
        "/versions": {"get": {
            "operationId": "versions.index", "tags": ["versions"],
            "summary": "The API versions", "security": [],
            "responses": {"200": {"description": "The versions list", **versions}}}},
        "/healthcheck": {
            "get": {"operationId": "healthcheck.get", "tags": ["healthcheck"],
                    "summary": "Health check (oslo.middleware's: database, stores, "
                               "disable_by_file), in the format the Accept header asks for",
                    "security": [],
                    "responses": {"200": {"description": "Healthy", "content": health},
                                  "503": {"description": "Unhealthy (the reasons say why)",
                                          "content": health}}},
            "head": {"operationId": "healthcheck.head", "tags": ["healthcheck"],
                     "summary": "Health check without a body", "security": [],
                     "responses": {"204": {"description": "Healthy"},
                                   "503": {"description": "Unhealthy"}}},
        },
    }


def build_document(documents: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """The whole OpenAPI document (``documents``: the ``/v2/schemas/*`` documents served).
    The service builds it leniently (see :func:`v2_paths`), so that a route added without a
    description fails the tests and ``tools/gen_docs.py``, not the service's start."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "glance-domain Image API", "version": "2",
                 "description": DESCRIPTION,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "security": [{"keystone": []}],
        "paths": {**unversioned_paths(), **v2_paths(strict=strict)},
        "components": {
            "schemas": components.schemas(documents),
            "parameters": components.parameters(),
            "responses": components.responses(),
            "headers": {"RequestId": {"description": "The request's id (the client's "
                                      "X-Openstack-Request-Id when it sent one)",
                                      "required": True, "schema": dict(_TEXT)}},
            "securitySchemes": {"keystone": {
                "type": "apiKey", "in": "header", "name": "X-Auth-Token",
                "description": "A keystone token, validated by keystonemiddleware when the "
                "service is configured with it; otherwise the service trusts the identity "
                "headers of the proxy in front of it (see docs/deployment.md)."}},
        },
    }


def encode(document: dict[str, Any]) -> str:
    """The document as committed under docs/ and served (stable key order, 1-space indent)."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


class OpenApiController:
    """``GET /v2/openapi.json``: the document, encoded once at start-up."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.body = encode(build_document(documents, strict=False)).encode("utf-8")

    def show(self, req: Request) -> bytes:
        return self.body


class OpenApiSerializer:
    def show(self, req: Request, body: bytes) -> Response:
        return Response(200, body, [("Content-Type", JSON)])


def create_resource(documents: dict[str, Any]) -> Resource:
    return Resource("openapi", OpenApiController(documents), serializer=OpenApiSerializer())
