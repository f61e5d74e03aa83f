"""Routes Glance mounts that this service answers minimally: schemas, cache.

- ``/v2/schemas/*``: the documents (built once at start-up).
- ``/v2/cache*``: as a Glance without a cache: its policy rule, then 404 "Caching via API is not
  supported at this site.".
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


NO_CACHE = "Caching via API is not supported at this site."


class CacheController:
    """The image cache API of a Glance whose ``image_cache_dir`` is unset: each action checks
    its policy rule first (on the image, for the per-image actions, which 404 for an image the
    caller cannot see), then answers 404 "Caching via API is not supported at this site."."""

    def _refuse(self, req: Request, rule: str, image_id: str | None = None) -> None:
        req.service.check_api_rule(rule, image_id)
        raise not_found(NO_CACHE)

    def get_cache_state(self, req: Request) -> None:
        self._refuse(req, "cache_list")

    def clear_cache(self, req: Request) -> None:
        self._refuse(req, "cache_delete")

    def delete_cache_entry(self, req: Request) -> None:
        self._refuse(req, "cache_delete", req.urlvars["image_id"])

    def queue_image_from_api(self, req: Request) -> None:
        self._refuse(req, "cache_image", req.urlvars["image_id"])

    def get_cached_nodes(self, req: Request) -> None:
        self._refuse(req, "list_cached_nodes")

    def clean_cache(self, req: Request) -> None:
        self._refuse(req, "cache_clean")

    def prune_cache(self, req: Request) -> None:
        self._refuse(req, "cache_prune")


def schemas_resource(documents: dict[str, Any]) -> Resource:
    return Resource("schemas", SchemasController(documents), serializer=SchemasSerializer())


def cache_resource() -> Resource:
    return Resource("cache_manage", CacheController())

