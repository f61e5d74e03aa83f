"""``/v2/cache*``: Glance 33's cache management API.

Without a cache (``image_cache_dir`` unset) each action checks its policy rule (on the image,
for the per-image actions, which 404 for an image the caller cannot see) and answers 404
"Caching via API is not supported at this site.", as Glance does. With one:

- ``GET /v2/cache`` (``cache_list``): ``{"cached_images": [...], "queued_images": [...]}``.
- ``PUT /v2/cache/{id}`` (``cache_image``): 404 for an image the caller cannot see, 400 unless
  it is ``active``; queued and handed to the prefetcher, 202.
- ``DELETE /v2/cache/{id}`` (``cache_delete``): the copy and the queue entry, 204 (also for an
  image that no longer exists but is still cached or queued: an image id the index records or
  the queue holds; anything else, or an id that is not a UUID, is 404 "Image X not found.",
  as Glance). Only the index is consulted, never the other files of the directory.
- ``DELETE /v2/cache`` (``cache_delete``): the ``x-image-cache-clear-target`` header chooses
  ``cache``, ``queue`` or both (empty or absent); 204, anything else 400.
- ``GET /v2/cache/nodes/{id}`` (``list_cached_nodes``, checked once, without the image, as
  Glance): 409 unless ``image_cache_driver`` is ``centralized_db``; 404 for an image the caller
  cannot see; then the hosts holding a copy (this one's ``worker_self_reference_url``).

A database or disk error of the cache (``CacheUnavailable``) is a domain
``ServiceUnavailable``: 503 through the error table, like every other domain error.

``POST /v2/cache/clean`` and ``/prune`` are shadowed by ``/v2/cache/{id}`` in Glance's router
(405); cleaning and pruning are ``glance-domain cache clean|prune``.
"""

from __future__ import annotations

from typing import Any

from glance_domain.errors import NotFound
from glance_domain_adapters.image_cache import FileImageCache, InvalidImageId, Prefetcher
from glance_domain_adapters.wsgi.errors import bad_request, conflict, not_found
from glance_domain_adapters.wsgi.http import Request, Response, empty_response, json_response
from glance_domain_adapters.wsgi.resource import Resource

NO_CACHE = "Caching via API is not supported at this site."
CLEAR_TARGET = "x-image-cache-clear-target"


class CacheController:
    def __init__(self, cache: FileImageCache | None, prefetcher: Prefetcher | None) -> None:
        self.cache = cache
        self.prefetcher = prefetcher

    def _enabled(self, req: Request, rule: str, image_id: str | None = None) -> FileImageCache:
        """The rule first (NotFound for an image the caller cannot see), then 404 without a
        cache, as Glance."""
        req.service.check_api_rule(rule, image_id)
        if self.cache is None:
            raise not_found(NO_CACHE)
        return self.cache

    def get_cache_state(self, req: Request) -> dict[str, Any]:
        cache = self._enabled(req, "cache_list")
        return {"cached_images": cache.cached_images(), "queued_images": cache.queued_images()}

    def clear_cache(self, req: Request) -> None:
        cache = self._enabled(req, "cache_delete")
        target = (req.header(CLEAR_TARGET) or "").lower()
        if target not in ("", "cache", "queue"):
            raise bad_request("If provided 'x-image-cache-clear-target' must be 'cache', "
                              "'queue' or empty string.")
        if target in ("", "cache"):
            cache.clear_cached()
        if target in ("", "queue"):
            cache.clear_queued()

    def delete_cache_entry(self, req: Request) -> None:
        image_id = req.urlvars["image_id"]
        try:
            cache = self._enabled(req, "cache_delete", image_id)
        except NotFound:
            # an image that is gone may still be cached or queued here: it can be removed
            if self.cache is None or not self._known(self.cache, image_id):
                raise
            cache = self._enabled(req, "cache_delete")
        try:
            cache.delete_cached(image_id)
            cache.delete_queued(image_id)
        except InvalidImageId:
            raise not_found(f"Image {image_id} not found.") from None

    @staticmethod
    def _known(cache: FileImageCache, image_id: str) -> bool:
        try:
            return cache.is_queued(image_id) or cache.is_cached(image_id)
        except InvalidImageId:
            return False

    def queue_image_from_api(self, req: Request) -> None:
        image = req.service.check_api_rule("cache_image", req.urlvars["image_id"])
        if self.cache is None:
            raise not_found(NO_CACHE)
        cache = self.cache
        if image is None or image.status != "active":
            raise bad_request("Only images with status active can be targeted for queueing")
        cache.queue(image.id)
        if self.prefetcher is not None:
            self.prefetcher.submit(image.id)

    def get_cached_nodes(self, req: Request) -> list[str]:
        cache = self._enabled(req, "list_cached_nodes")
        if cache.driver != "centralized_db":
            raise conflict("Centralized caching is not enabled")
        image = req.service.find_image(req.urlvars["image_id"])
        return cache.cached_nodes(image.id)

    # Unreachable through Glance's route table (see the module docstring); kept so that a
    # route to them answers like Glance's controller would.
    def clean_cache(self, req: Request) -> None:
        self._enabled(req, "cache_clean").clean()

    def prune_cache(self, req: Request) -> dict[str, int]:
        files, freed = self._enabled(req, "cache_prune").prune()
        return {"total_files_pruned": files, "total_bytes_pruned": freed}


class CacheSerializer:
    def default(self, req: Request, result: Any) -> Response:
        return json_response(result)

    def queue_image_from_api(self, req: Request, result: None) -> Response:
        return empty_response(202)

    def clear_cache(self, req: Request, result: None) -> Response:
        return empty_response(204)

    def delete_cache_entry(self, req: Request, result: None) -> Response:
        return empty_response(204)

    def clean_cache(self, req: Request, result: None) -> Response:
        return empty_response(200)


def create_resource(cache: FileImageCache | None = None,
                    prefetcher: Prefetcher | None = None) -> Resource:
    return Resource("cache_manage", CacheController(cache, prefetcher),
                    serializer=CacheSerializer())
