"""Routes Glance mounts that this service answers minimally: schemas, tasks, cache, metadefs.

- ``/v2/schemas/*``: the documents (built once at start-up).
- ``/v2/cache*``: as a Glance without the cache filters: 404 "Caching via API is not supported".
- ``/v2/metadefs/*``: metadata definitions are not implemented; collections list empty, single
  resources are 404, creations are 501.
"""

from __future__ import annotations

from typing import Any

from glance_domain_adapters.wsgi.errors import http_error, not_found
from glance_domain_adapters.wsgi.http import Request, Response, json_response
from glance_domain_adapters.wsgi.resource import Resource


class SchemasController:
    """Each action is a schema name (``image``, ``metadefs/tags``...); bodies are pre-encoded."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self._bodies = {name: json_response(doc).body for name, doc in documents.items()}

    def __getattr__(self, action: str) -> Any:
        try:
            body = self._bodies[action]
        except KeyError:
            raise AttributeError(action) from None
        return lambda req: body


class SchemasSerializer:
    def default(self, req: Request, body: bytes) -> Response:
        return Response(200, body, [("Content-Type", "application/json")])


class CacheController:
    def default(self, req: Request) -> None:
        raise not_found("Caching via API is not supported at this site.")


class MetadefsController:
    def index_namespaces(self, req: Request) -> dict[str, Any]:
        return {
            "namespaces": [],
            "first": "/v2/metadefs/namespaces",
            "schema": "/v2/schemas/metadefs/namespaces",
        }

    def index_resource_types(self, req: Request) -> dict[str, Any]:
        return {"resource_types": []}

    def not_found(self, req: Request) -> None:
        namespace = req.urlvars.get("namespace")
        if namespace is not None:
            raise not_found(f"Metadata definition namespace={namespace} was not found.")
        raise not_found()

    def create(self, req: Request) -> None:
        raise http_error(501, "Metadata definitions are not supported by this service.")


class _Dispatch:
    """Sends every action of a resource to one controller method (``default``)."""

    def __init__(self, controller: Any, method: str = "default") -> None:
        self._method = getattr(controller, method)

    def __getattr__(self, action: str) -> Any:
        return self._method


def schemas_resource(documents: dict[str, Any]) -> Resource:
    return Resource("schemas", SchemasController(documents), serializer=SchemasSerializer())


def cache_resource() -> Resource:
    return Resource("cache_manage", _Dispatch(CacheController()))


def metadefs_resource() -> Resource:
    return Resource("metadefs", MetadefsController())
