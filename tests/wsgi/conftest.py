"""Fixtures: the WSGI app over an in-memory gateway, and a small request helper."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import webob

from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.app import make_app
from glance_domain_adapters.wsgi.settings import ApiSettings

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


def identity(project: str | None, roles: str = "member,reader", user: str = "u1") -> dict[str, str]:
    """keystonemiddleware's headers for a confirmed token."""
    headers = {"X-Identity-Status": "Confirmed", "X-User-Id": user, "X-Roles": roles}
    if project is not None:
        headers["X-Project-Id"] = project
    return headers


ADMIN = identity("admin-project", "admin,member,reader", "admin-user")
ALICE = identity("alice-project", user="alice")
BOB = identity("bob-project", user="bob")


class Client:
    """Issues requests to the app in-process (webob ``Request.blank``)."""

    def __init__(self, app: Callable[..., Any], default: dict[str, str]) -> None:
        self.app = app
        self.default = default

    def request(
        self, method: str, path: str, *, json_body: Any = None, body: bytes | None = None,
        headers: dict[str, str] | None = None, as_: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> webob.Response:
        hdrs = dict(self.default if as_ is None else as_)
        hdrs.update(headers or {})
        req = webob.Request.blank(path, method=method, headers=hdrs)
        if json_body is not None:
            req.body = json.dumps(json_body).encode()
            req.content_type = content_type or "application/json"
        elif body is not None:
            req.body = body
            if content_type:
                req.content_type = content_type
        elif content_type:
            req.content_type = content_type
        return req.get_response(self.app)

    def get(self, path: str, **kw: Any) -> webob.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> webob.Response:
        return self.request("POST", path, json_body=json_body, **kw)

    def put(self, path: str, **kw: Any) -> webob.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> webob.Response:
        return self.request("DELETE", path, **kw)

    def patch(self, path: str, ops: Any, **kw: Any) -> webob.Response:
        kw.setdefault("content_type", PATCH_TYPE)
        return self.request("PATCH", path, json_body=ops, **kw)

    def create(self, **attrs: Any) -> dict[str, Any]:
        as_ = attrs.pop("as_", None)
        resp = self.post("/v2/images", attrs or {"name": "img"}, as_=as_)
        assert resp.status_int == 201, resp.text
        return dict(resp.json)

    def upload(self, image_id: str, data: bytes, **kw: Any) -> webob.Response:
        return self.put(f"/v2/images/{image_id}/file", body=data,
                        content_type="application/octet-stream", **kw)


def build_app(
    settings: DomainSettings | None = None, api: ApiSettings | None = None,
    backends: tuple[str, ...] = ("fast", "slow"),
) -> Callable[..., Any]:
    settings = settings or DomainSettings()
    gateway = Gateway(
        repository=MemoryImageRepository(),
        stores=MemoryStoreRegistry(backends, hashing_algorithm=settings.hashing_algorithm),
        policy=DefaultPolicy(),
        notifier=NullNotifier(),
        settings=settings,
    )
    return make_app(gateway, settings, api_settings=api)


@pytest.fixture
def app() -> Callable[..., Any]:
    return build_app()


@pytest.fixture
def client(app: Callable[..., Any]) -> Client:
    return Client(app, ALICE)
