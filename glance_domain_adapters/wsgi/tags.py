"""``PUT``/``DELETE /v2/images/{id}/tags/{tag}``."""

from __future__ import annotations

from typing import Any

from glance_domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyDenied,
    QuotaExceeded,
)
from glance_domain_adapters.wsgi.errors import bad_request, http_error
from glance_domain_adapters.wsgi.http import Request, Response, empty_response
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.schemas import SchemaValidator


class TagsDeserializer:
    def __init__(self, validator: SchemaValidator) -> None:
        self.validator = validator

    def update(self, req: Request) -> dict[str, Any]:
        message = self.validator.error({"tags": [req.urlvars["tag_value"]]})
        if message is not None:
            raise bad_request(message)
        return {}


class TagsController:
    def update(self, req: Request) -> None:
        image_id = req.urlvars["image_id"]
        try:
            req.service.add_tag(image_id, req.urlvars["tag_value"])
        except NotFound:
            raise http_error(404, f"Image {image_id} not found.") from None
        except PolicyDenied:  # Glance lets policy denials through unchanged
            raise
        except Forbidden:
            raise http_error(403, f"Not allowed to update tags for image {image_id}.") from None
        except InvalidInput as exc:
            raise http_error(400, f"Could not update image: {exc.message}") from None
        except QuotaExceeded as exc:
            raise http_error(
                413, f"Image tag limit exceeded for image {image_id}: {exc.message}:"
            ) from None

    def delete(self, req: Request) -> None:
        image_id = req.urlvars["image_id"]
        try:
            req.service.remove_tag(image_id, req.urlvars["tag_value"])
        except PolicyDenied:  # Glance lets policy denials through unchanged
            raise
        except Forbidden:
            raise http_error(403, f"Not allowed to delete tags for image {image_id}.") from None


class TagsSerializer:
    def update(self, req: Request, result: None) -> Response:
        return empty_response(204)

    delete = update


def create_resource(validator: SchemaValidator) -> Resource:
    return Resource("image_tags", TagsController(), TagsDeserializer(validator), TagsSerializer())
