"""Routes Glance mounts that this service answers minimally: schemas, cache.

- ``/v2/schemas/*``: the documents (built once at start-up).
- ``/v2/cache*``: as a Glance without the cache filters: 404 "Caching via API is not supported".
(Metadata definitions live in :mod:`.metadefs`.)
"""

from __future__ import annotations

from typing import Any

from glance_domain_adapters.wsgi.errors import not_found
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

