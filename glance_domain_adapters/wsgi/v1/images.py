"""``/v1/images``, ``/v1/images/detail`` and ``/v1/images/{id}``: v1's image calls on the
caller's ImageService.

Reads: ``index`` (brief documents), ``detail`` (full documents), ``meta`` (HEAD: the metadata
as ``x-image-meta-*`` headers) and ``show`` (the data, with the same headers). Writes:
``create`` (POST; headers -> a new image, then its data source), ``update`` (PUT; headers ->
changes, then data for a queued image) and ``delete`` (200, as v1).
"""

from __future__ import annotations

from typing import Any

from glance_domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from glance_domain.model.image import Image
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.errors import forbidden, from_domain, http_error, not_found
from glance_domain_adapters.wsgi.http import ClosingIterator, Request, Response, json_response
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.v1 import meta as m
from glance_domain_adapters.wsgi.v1 import sources
from glance_domain_adapters.wsgi.v1.listing import parse_query
from glance_domain_adapters.wsgi.v1.writes import create_attributes, update_changes

OCTET_STREAM = "application/octet-stream"


def image_not_found(image_id: str) -> Exception:
    return not_found(f"Image with identifier {image_id} not found")


def fetch(req: Request, image_id: str) -> Image:
    """The image as the caller sees it, or v1's 404 (another project's private image too)."""
    try:
        return req.service.get_image(image_id)
    except NotFound:
        raise image_not_found(image_id) from None


class V1ImagesController:
    def __init__(self, settings: DomainSettings, api: ApiSettings) -> None:
        self.settings = settings
        self.api = api

    def _list(self, req: Request) -> list[Image]:
        query = parse_query(req.params, default_limit=self.settings.limit_param_default,
                            max_limit=self.settings.api_limit_max)
        if query.limit == 0:
            return []
        try:
            return req.service.list_images(query)
        except (InvalidInput, NotFound, Forbidden):  # v1: an invisible marker is unknown
            if query.marker is None:
                raise
            raise http_error(400, "Invalid marker. Image could not be found.") from None

    def index(self, req: Request) -> Response:
        return json_response({"images": [m.index_document(i) for i in self._list(req)]})

    def detail(self, req: Request) -> Response:
        return json_response({"images": [m.document(i) for i in self._list(req)]})

    def detail_head(self, req: Request) -> Response:
        raise http_error(405, "This operation is currently not permitted on Glance images "
                         "details.", headers={"Allow": "GET"})

    def meta(self, req: Request) -> Response:
        image = fetch(req, req.urlvars["image_id"])
        return Response(200, b"", [("Content-Type", "text/html; charset=UTF-8"),
                                   *m.headers(image)])

    def show(self, req: Request) -> Response:
        image_id = req.urlvars["image_id"]
        image = fetch(req, image_id)
        if image.status == "deactivated":
            raise forbidden(f"Image {image_id} is deactivated")
        if image.status != "active":
            raise not_found(f"Image {image_id} is not active")
        download = req.service.download_data(image_id)
        headers = [("Content-Type", OCTET_STREAM), *m.headers(image)]
        if download is None:
            return Response(200, b"", headers)
        headers.append(("Content-Length", str(download.length)))
        stream = download.stream
        return Response(200, headers=headers,
                        app_iter=ClosingIterator(stream, stream.close))

    def create(self, req: Request) -> Response:
        v1meta = m.parse_headers(req)
        has_data = sources.check_sources(req, v1meta, self.api)
        attributes = create_attributes(v1meta, self.settings, has_data=has_data)
        if has_data or "location" in v1meta.fields or sources.copy_from(req) is not None:
            _require_formats(v1meta, None)
        image = req.service.create_image(**attributes)
        try:
            image = sources.apply_source(req, image, v1meta, self.api)
        except Exception:
            if "location" in v1meta.fields or sources.copy_from(req) is not None:
                _discard(req, image)  # a refused source leaves no image behind
            raise
        response = json_response({"image": m.document(image)}, 201)
        response.headers.append(("Location", f"/v1/images/{image.id}"))
        if image.checksum:
            response.headers.append(("ETag", image.checksum))
        return response

    def update(self, req: Request) -> Response:
        image_id = req.urlvars["image_id"]
        v1meta = m.parse_headers(req)
        current = fetch(req, image_id)
        has_data = sources.check_sources(req, v1meta, self.api)
        new_source = has_data or "location" in v1meta.fields or (
            sources.copy_from(req) is not None)
        if has_data and current.status != "queued":
            raise http_error(409, "Cannot upload to an unqueued image")
        if new_source and current.status != "queued":
            raise http_error(400, "Attempted to update Location field for an image not in "
                             "queued status.")
        purge = req.header("X-Glance-Registry-Purge-Props", "true") or "true"
        purge_props = purge.strip().lower() in ("1", "t", "true", "on", "y", "yes") and (
            not has_data)
        changes = update_changes(current, v1meta, purge_props, uploading=has_data,
                                 is_admin=req.context.is_admin)
        image = current
        if changes:
            image = req.service.update_image(image_id, changes)
        if new_source:
            _require_formats(v1meta, image)
            image = sources.apply_source(req, image, v1meta, self.api)
        response = json_response({"image": m.document(image)})
        if image.checksum:
            response.headers.append(("ETag", image.checksum))
        return response

    def delete(self, req: Request) -> Response:
        image_id = req.urlvars["image_id"]
        fetch(req, image_id)
        req.service.delete_image(image_id)
        return Response(200, b"", [("Content-Type", "text/html; charset=UTF-8")])


def _require_formats(v1meta: m.V1Meta, image: Image | None) -> None:
    """v1 activates an image only with both formats (given now or set before)."""
    if not v1meta.fields.get("disk_format") and not (image and image.disk_format):
        raise http_error(400, "Disk format is not specified.")
    if not v1meta.fields.get("container_format") and not (image and image.container_format):
        raise http_error(400, "Container format is not specified.")


def _discard(req: Request, image: Image) -> None:
    try:
        req.service.delete_image(image.id)
    except DomainError:
        pass


class V1Resource(Resource):
    """A resource whose domain errors become HTTP errors without v2's per-action texts (the
    controllers fetch the image first, so a missing image already has v1's 404 text)."""

    def __call__(self, action: str, req: Request) -> Any:
        try:
            return super().__call__(action, req)
        except DomainError as err:
            raise from_domain(err) from None


class _Passthrough:
    """Controllers return finished responses."""

    def default(self, req: Request, result: Response) -> Response:
        return result


def create_resource(settings: DomainSettings, api: ApiSettings) -> Resource:
    return V1Resource("v1_images", V1ImagesController(settings, api),
                      serializer=_Passthrough())
