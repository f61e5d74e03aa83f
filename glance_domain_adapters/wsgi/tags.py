"""``PUT``/``DELETE /v2/images/{id}/tags/{tag}``."""

from __future__ import annotations

from typing import Any

from glance_domain_adapters.wsgi.errors import bad_request
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
    """Errors become responses in ``wsgi/errors.py`` (Glance's wording per action there)."""

    def update(self, req: Request) -> None:
        req.service.add_tag(req.urlvars["image_id"], req.urlvars["tag_value"])

    def delete(self, req: Request) -> None:
        req.service.remove_tag(req.urlvars["image_id"], req.urlvars["tag_value"])


class TagsSerializer:
    def update(self, req: Request, result: None) -> Response:
        return empty_response(204)

    delete = update


def create_resource(validator: SchemaValidator) -> Resource:
    return Resource("image_tags", TagsController(), TagsDeserializer(validator), TagsSerializer())
