"""``/v2/info/import``, ``/v2/info/stores``, ``/v2/info/stores/detail``, ``/v2/info/usage``."""

from __future__ import annotations

from typing import Any

from glance_domain_adapters.wsgi.errors import http_error
from glance_domain_adapters.wsgi.http import Request
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.settings import ApiSettings, StoreDetail


class InfoController:
    def __init__(self, api: ApiSettings) -> None:
        self.api = api

    def get_image_import(self, req: Request) -> dict[str, Any]:
        return {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": list(self.api.enabled_import_methods or ()),
            }
        }

    def get_stores(self, req: Request) -> dict[str, Any]:
        if not self.api.multi_store:
            raise http_error(404, "Multi backend is not supported at this site.")
        stores = []
        for backend in req.service.stores():
            if backend.id.startswith("os_glance_"):
                continue
            entry: dict[str, Any] = {"id": backend.id}
            if backend.description:
                entry["description"] = backend.description
            if backend.default:
                entry["default"] = "true"
            if backend.read_only:
                entry["read-only"] = "true"
            stores.append(entry)
        return {"stores": stores}

    def get_stores_detail(self, req: Request) -> dict[str, Any]:
        stores = self.get_stores(req)["stores"]
        if not req.context.is_admin:
            raise http_error(403, "You are not authorized to complete stores_info_detail action.")
        for entry in stores:
            detail = self.api.store_details.get(entry["id"], StoreDetail())
            entry["type"] = detail.type
            entry["properties"] = dict(detail.properties)
            entry["weight"] = detail.weight
        return {"stores": stores}

    def get_usage(self, req: Request) -> dict[str, Any]:
        # Glance reports usage only with keystone unified limits (use_keystone_limits);
        # without them the document is empty, which is what we serve.
        return {"usage": {}}


def create_resource(api: ApiSettings) -> Resource:
    return Resource("info", InfoController(api))
