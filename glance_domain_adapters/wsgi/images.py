"""``/v2/images``, ``/v2/images/{id}`` and their side routes (tasks, import, locations, stores)."""

from __future__ import annotations

from typing import Any

from glance_domain.changes import Change
from glance_domain.errors import ReservedAttribute
from glance_domain.importing.request import GLANCE_DOWNLOAD, ImportRequest
from glance_domain.model.image import Image
from glance_domain.model.task import Task
from glance_domain.query import ImageQuery
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.errors import (
    bad_request,
    conflict,
    forbidden,
    http_error,
    not_found,
)
from glance_domain_adapters.wsgi.http import Request, Response, empty_response, json_response
from glance_domain_adapters.wsgi.listing import collection_links, parse_image_query
from glance_domain_adapters.wsgi.patch import ACCEPT_PATCH, MEDIA_TYPES, parse_patch
from glance_domain_adapters.wsgi.resource import Resource, read_json
from glance_domain_adapters.wsgi.schemas import SchemaValidator
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.views import ImageView, image_task_view

#: Response-only attributes a create body may not carry (Glance's "disallowed" list).
DISALLOWED_ON_CREATE = ("direct_url", "self", "file", "schema", "stores")
BASE_PROPERTIES = frozenset({
    "checksum", "created_at", "container_format", "disk_format", "id", "min_disk", "min_ram",
    "name", "size", "virtual_size", "status", "tags", "owner", "updated_at", "visibility",
    "protected", "os_hidden",
})
RESERVED = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"


class ImagesDeserializer:
    def __init__(
        self, settings: DomainSettings, validator: SchemaValidator, api: ApiSettings
    ) -> None:
        self.settings = settings
        self.validator = validator
        self.api = api

    def index(self, req: Request) -> dict[str, Any]:
        query = parse_image_query(
            req.params,
            default_limit=self.settings.limit_param_default,
            max_limit=self.settings.api_limit_max,
        )
        return {"query": query}

    def create(self, req: Request) -> dict[str, Any]:
        body = read_json(req)
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object.")
        for key in DISALLOWED_ON_CREATE:
            if key in body:
                raise forbidden(f"Attribute '{key}' is read-only.")
        message = self.validator.error(body)
        if message is not None:
            raise bad_request(message)
        for key in body:
            if key in BASE_PROPERTIES:
                continue
            if len(key) > 255:
                raise bad_request("Custom property should not be greater than 255 characters.")
            if key in RESERVED or key.startswith(RESERVED_PREFIX):
                raise ReservedAttribute(f"Attribute '{key}' is reserved.")
        return {"attributes": body}

    def update(self, req: Request) -> dict[str, Any]:
        draft = MEDIA_TYPES.get(req.content_type)
        if draft is None:
            raise http_error(
                415,
                detail=f"Image PATCH expects Content-Type one of: {ACCEPT_PATCH}",
                headers={"Accept-Patch": ACCEPT_PATCH},
            )
        body = read_json(req)
        return {"changes": parse_patch(body, draft, self.validator), "draft": draft}

    def import_image(self, req: Request) -> dict[str, Any]:
        body = read_json(req)
        if not isinstance(body, dict) or "method" not in body:
            raise bad_request("Import request requires a 'method' field.")
        method = body["method"]
        if not isinstance(method, dict) or "name" not in method:
            raise bad_request("Import request requires a 'name' field.")
        if method["name"] not in (self.api.enabled_import_methods or ()):
            raise bad_request(f"Unknown import method name '{method['name']}'.")
        if not isinstance(body.get("all_stores_must_succeed", True), bool):
            raise bad_request("'all_stores_must_succeed' must be boolean value only")
        if not isinstance(body.get("all_stores", False), bool):
            raise bad_request("'all_stores' must be boolean value only")
        stores = body.get("stores")
        if stores is not None:
            # Glance iterates whatever it is given (a string is a list of one-letter stores).
            if isinstance(stores, str):
                stores = list(stores)
            if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
                raise bad_request("'stores' must be a list of store identifiers.")
        uri = method.get("uri")
        glance_fields: dict[str, Any] = {}
        if method["name"] == GLANCE_DOWNLOAD:
            method = {"glance_service_interface": "public", **method}
            body = {**body, "method": method}  # the task input shows the default, as Glance
            glance_fields = {
                key: str(method[key]) for key in
                ("glance_image_id", "glance_region", "glance_service_interface")
                if method.get(key) is not None}
        request = ImportRequest(
            method=str(method["name"]),
            uri=uri if isinstance(uri, str) else None,
            stores=None if stores is None else tuple(stores),
            all_stores=body.get("all_stores", False),
            all_stores_must_succeed=body.get("all_stores_must_succeed", True),
            store_header=req.header("X-Image-Meta-Store"),
            body=body,
            **glance_fields,
        )
        return {"request": request}

    def add_location(self, req: Request) -> dict[str, Any]:
        body = read_json(req)
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise bad_request(
                "Provided object does not match schema 'location': 'url' is a required property"
            )
        return {"body": body}


class ImagesController:
    def __init__(self, api: ApiSettings) -> None:
        self.api = api

    def index(self, req: Request, query: ImageQuery) -> tuple[list[Image], str | None]:
        images = req.service.list_images(query)
        next_marker = None
        if images and query.limit and len(images) >= query.limit:
            next_marker = images[-1].id
        return images, next_marker

    def show(self, req: Request) -> Image:
        return req.service.get_image(req.urlvars["image_id"])

    def create(self, req: Request, attributes: dict[str, Any]) -> Image:
        return req.service.create_image(**attributes)

    def update(self, req: Request, changes: list[Change], draft: int) -> Image:
        image_id = req.urlvars["image_id"]
        if draft == 4 and any(c.op == "add" for c in changes):
            image = req.service.get_image(image_id)
            present = set(image.extra_properties) | {"name", "visibility", "protected",
                                                        "os_hidden", "owner", "min_disk",
                                                        "min_ram", "container_format",
                                                        "disk_format", "tags", "locations"}
            for change in changes:
                root = change.path[0]
                if change.op == "add" and root in present and root != "locations":
                    raise conflict(f"Property {root} already present.")
                if change.op in ("add", "replace"):
                    present.add(root)
                elif change.op == "remove":
                    present.discard(root)
        return req.service.update_image(image_id, changes)

    def delete(self, req: Request) -> None:
        req.service.delete_image(req.urlvars["image_id"])

    def delete_from_store(self, req: Request) -> None:
        if not self.api.multi_store:
            raise not_found()
        store_id = req.urlvars["store_id"]
        svc = req.service
        # Glance's enabled_backends include its reserved stores
        if store_id not in {b.id for b in svc.stores()} | set(GLANCE_RESERVED_STORES):
            raise conflict(f"The selected store {store_id} is not available on this node.")
        svc.delete_from_store(req.urlvars["image_id"], store_id)

    def get_task_info(self, req: Request) -> list[Task]:
        return req.service.image_tasks(req.urlvars["image_id"])

    def import_image(self, req: Request, request: ImportRequest) -> None:
        req.service.import_image(req.urlvars["image_id"], request)

    def get_locations(self, req: Request) -> list[dict[str, Any]]:
        locations = req.service.get_locations(req.urlvars["image_id"])
        return [{"url": loc.url, "metadata": dict(loc.metadata)} for loc in locations]

    def add_location(self, req: Request, body: dict[str, Any]) -> None:
        metadata = body.get("metadata")
        validation = body.get("validation_data")
        req.service.add_location(
            req.urlvars["image_id"], body["url"],
            dict(metadata) if isinstance(metadata, dict) else None,
            validation_data=dict(validation) if isinstance(validation, dict) else None,
        )


#: Glance registers these internal stores next to ``enabled_backends`` (staging for
#: glance-direct, a tasks work dir). A store lookup by id (upload, download, import, store detail)
#: adds them to its cached backend list, which ``OpenStack-image-store-ids`` names, until a
#: ``/healthcheck`` request empties oslo.config's cache. We always answer as a Glance that has
#: handled data since: configured stores, then these.
GLANCE_RESERVED_STORES = ("os_glance_staging_store", "os_glance_tasks_store")


class ImagesSerializer:
    def __init__(self, view: ImageView, api: ApiSettings) -> None:
        self.view = view
        self.api = api
        self._store_ids: str | None = None  # the configured backends never change at runtime

    def index(self, req: Request, result: tuple[list[Image], str | None]) -> Response:
        images, next_marker = result
        view, context = self.view, req.context
        links = collection_links(req.params, next_marker)
        body: dict[str, Any] = {
            "images": [view(i, context) for i in images],
            "first": links["first"],
            "schema": "/v2/schemas/images",
        }
        if "next" in links:
            body["next"] = links["next"]
        return json_response(body)

    def show(self, req: Request, image: Image) -> Response:
        return json_response(self.view(image, req.context))

    update = show

    def create(self, req: Request, image: Image) -> Response:
        response = json_response(self.view(image, req.context), 201)
        response.headers.append(
            ("Location", f"{req.application_url}/v2/images/{image.id}")
        )
        if self.api.enabled_import_methods:
            # Glance lists the methods in its configured order.
            response.headers.append(
                ("OpenStack-image-import-methods", ",".join(self.api.enabled_import_methods))
            )
        if self.api.multi_store:
            stores = self._store_ids
            if stores is None:
                stores = self._store_ids = ",".join(
                    [b.id for b in req.service.stores() if not b.id.startswith("os_glance_")]
                    + list(GLANCE_RESERVED_STORES)
                )
            response.headers.append(("OpenStack-image-store-ids", stores))
        return response

    def delete(self, req: Request, result: None) -> Response:
        return empty_response(204)

    delete_from_store = delete

    def get_task_info(self, req: Request, result: list[Task]) -> Response:
        return json_response({"tasks": [image_task_view(t) for t in result]})

    def import_image(self, req: Request, result: None) -> Response:
        return empty_response(202)

    add_location = import_image

    def get_locations(self, req: Request, result: list[dict[str, Any]]) -> Response:
        return json_response(result)


def create_resource(
    settings: DomainSettings, api: ApiSettings, view: ImageView, validator: SchemaValidator
) -> Resource:
    return Resource(
        "images",
        ImagesController(api),
        ImagesDeserializer(settings, validator, api),
        ImagesSerializer(view, api),
    )
