"""``POST /v2/images/{id}/actions/deactivate|reactivate``."""

from __future__ import annotations

from glance_domain_adapters.wsgi.http import Request, Response, empty_response
from glance_domain_adapters.wsgi.resource import Resource


class ActionsController:
    def deactivate(self, req: Request) -> None:
        req.service.deactivate_image(req.urlvars["image_id"])

    def reactivate(self, req: Request) -> None:
        req.service.reactivate_image(req.urlvars["image_id"])


class ActionsSerializer:
    def deactivate(self, req: Request, result: None) -> Response:
        return empty_response(204)

    reactivate = deactivate


def create_resource() -> Resource:
    return Resource("image_actions", ActionsController(), serializer=ActionsSerializer())
