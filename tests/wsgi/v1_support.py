"""Helpers of the v1 API tests: an app with ``enable_v1_api`` and v1-style requests."""

from __future__ import annotations

from typing import Any

import webob

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.settings import ApiSettings
from tests.wsgi.conftest import ALICE, Client, build_app

OCTET = "application/octet-stream"
V1_ON = ApiSettings(enable_v1_api=True)


def v1_client(settings: DomainSettings | None = None, as_: dict[str, str] = ALICE) -> Client:
    return Client(build_app(settings, api=V1_ON), as_)


def meta_headers(**fields: Any) -> dict[str, str]:
    """``x-image-meta-<field>`` headers (``property_<key>`` -> ``x-image-meta-property-<key>``)."""
    headers = {}
    for key, value in fields.items():
        if key.startswith("property_"):
            headers[f"x-image-meta-property-{key[len('property_'):]}"] = str(value)
        else:
            headers[f"x-image-meta-{key}"] = str(value)
    return headers


def v1_create(client: Client, data: bytes | None = None, *, as_: dict[str, str] | None = None,
              **fields: Any) -> webob.Response:
    fields.setdefault("name", "img")
    if data is not None:
        fields.setdefault("disk_format", "raw")
        fields.setdefault("container_format", "bare")
    return client.request("POST", "/v1/images", headers=meta_headers(**fields), body=data,
                          content_type=OCTET if data is not None else None, as_=as_)


def new_image(client: Client, data: bytes | None = b"some data", **fields: Any) -> str:
    resp = v1_create(client, data, **fields)
    assert resp.status_int == 201, resp.text
    return str(resp.json["image"]["id"])
