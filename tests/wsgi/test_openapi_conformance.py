"""Responses of a scripted walk through the API match the OpenAPI document.

The fuzz test (tests/e2e/test_openapi_fuzz.py) mostly meets random ids; this walk reaches the
states it rarely does (data, ranges, members, import tasks, locations, filled metadefs
namespaces, a filled image cache) and checks each answer against the document: a documented
status, and a JSON body that matches its schema.
"""

from __future__ import annotations

import pathlib
from typing import Any

import jsonschema
import pytest

from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.image_cache import FileImageCache
from glance_domain_adapters.wsgi.app import make_app, schema_documents
from glance_domain_adapters.wsgi.openapi import build_document
from glance_domain_adapters.wsgi.routes import Route

from .conftest import ADMIN, ALICE, BOB, Client

DOCUMENT = build_document(schema_documents(DomainSettings()))
NS = "/v2/metadefs/namespaces"


def _template(path: str) -> str:
    """The documented path template that ``path`` (no version prefix) falls under."""
    parts = path.split("?", 1)[0][1:].split("/")
    for template in DOCUMENT["paths"]:
        route = Route.parse(template, {}, None)
        if len(route.segments) == len(parts) and route.match(parts) is not None:
            return template
    raise AssertionError(f"{path} is not documented")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = DOCUMENT["components"][kind][name]
    return node


def check(method: str, path: str, resp: Any) -> Any:
    """Assert ``resp`` is what the document says ``method path`` may answer."""
    operation = DOCUMENT["paths"][_template(path)][method.lower()]
    status = str(resp.status_int)
    assert status in operation["responses"], (method, path, status, resp.text[:300])
    documented = _resolve(operation["responses"][status])
    content = documented.get("content", {})
    media = (resp.content_type or "").split(";")[0]
    if resp.body:
        assert media in content, (method, path, status, media)
    if media == "application/json" and resp.body:
        schema = {**content[media]["schema"], "components": DOCUMENT["components"]}
        jsonschema.validate(resp.json, schema, cls=jsonschema.Draft202012Validator)
    return resp


class Walk:
    """A client whose every answer is checked against the document."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        return check(method, path, self.client.request(method, path, **kw))


@pytest.fixture
def walk(tmp_path: pathlib.Path) -> Walk:
    settings = DomainSettings(show_multiple_locations=True)
    gateway = Gateway(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(("fast", "slow")),
        policy=DefaultPolicy(), notifier=NullNotifier(), settings=settings,
        cache=FileImageCache(str(tmp_path / "cache")),
    )
    app = make_app(gateway, settings, cache=gateway.cache)
    return Walk(Client(app, ADMIN))


def test_images_data_members_and_tasks_answer_as_documented(walk: Walk) -> None:
    image = walk("POST", "/v2/images", json_body={
        "name": "walk", "disk_format": "raw", "container_format": "bare", "tags": ["a"],
        "extra": "value"}, as_=ALICE).json["id"]
    base = f"/v2/images/{image}"
    walk("GET", f"{base}/file", as_=ALICE)  # 204: no data yet
    walk("PUT", f"{base}/file", body=b"0123456789" * 100,
         content_type="application/octet-stream", as_=ALICE)
    walk("GET", f"{base}/file", as_=ALICE)
    assert walk("GET", f"{base}/file", headers={"Range": "bytes=10-19"}).status_int == 206
    walk("GET", f"{base}/file", headers={"Range": "bytes=5000-"})  # 416
    walk("GET", base, as_=ALICE)
    walk("GET", "/v2/images?limit=1&sort_key=name&sort_dir=asc")
    walk("GET", "/v2/images?limit=abc")  # 400
    walk("PATCH", base, json_body=[{"op": "replace", "path": "/visibility", "value": "shared"}],
         content_type="application/openstack-images-v2.1-json-patch", as_=ALICE)
    walk("PATCH", base, json_body=[], content_type="application/json", as_=ALICE)  # 415
    walk("PUT", f"{base}/tags/b", as_=ALICE)
    walk("DELETE", f"{base}/tags/a", as_=ALICE)
    walk("POST", f"{base}/members", json_body={"member": BOB["X-Project-Id"]}, as_=ALICE)
    walk("POST", f"{base}/members", json_body={"member": BOB["X-Project-Id"]},
         as_=ALICE)  # 409
    walk("GET", f"{base}/members", as_=ALICE)
    walk("PUT", f"{base}/members/{BOB['X-Project-Id']}", json_body={"status": "accepted"},
         as_=BOB)
    walk("GET", f"{base}/members/{BOB['X-Project-Id']}", as_=BOB)
    walk("GET", f"{base}/locations")
    walk("POST", f"{base}/actions/deactivate")
    walk("POST", f"{base}/actions/reactivate")
    staged = walk("POST", "/v2/images", json_body={
        "name": "staged", "disk_format": "raw", "container_format": "bare"}).json["id"]
    walk("PUT", f"/v2/images/{staged}/stage", body=b"x" * 64,
         content_type="application/octet-stream")
    walk("POST", f"/v2/images/{staged}/import",
         json_body={"method": {"name": "glance-direct"}})
    tasks = walk("GET", f"/v2/images/{staged}/tasks").json["tasks"]
    walk("GET", f"/v2/tasks/{tasks[0]['id']}")
    walk("GET", "/v2/tasks?limit=1")
    walk("DELETE", f"/v2/tasks/{tasks[0]['id']}")  # 405
    for path in ("/v2/info/import", "/v2/info/stores", "/v2/info/stores/detail",
                 "/v2/info/usage", "/v2/schemas/image", "/v2/openapi.json", "/versions"):
        walk("GET", path)
    walk("DELETE", base, as_=ALICE)


def test_image_cache_answers_as_documented(walk: Walk) -> None:
    image = walk("POST", "/v2/images", json_body={
        "name": "cached", "disk_format": "raw", "container_format": "bare"}).json["id"]
    walk("PUT", f"/v2/images/{image}/file", body=b"c" * 100,
         content_type="application/octet-stream")
    walk("PUT", f"/v2/cache/{image}")
    walk("GET", f"/v2/images/{image}/file")
    walk("GET", "/v2/cache")
    walk("GET", f"/v2/cache/nodes/{image}")  # 409: not the centralized driver
    walk("DELETE", f"/v2/cache/{image}")
    walk("DELETE", "/v2/cache", headers={"x-image-cache-clear-target": "queue"})


def test_metadefs_answer_as_documented(walk: Walk) -> None:
    walk("POST", NS, json_body={
        "namespace": "walk", "display_name": "Walk", "visibility": "public",
        "properties": {"p": {"title": "P", "type": "string", "enum": ["a", "b"]}},
        "objects": [{"name": "o", "properties": {"q": {"title": "Q", "type": "integer"}}}],
        "tags": [{"name": "t"}],
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "w_"}]})
    walk("GET", f"{NS}/walk")
    walk("GET", f"{NS}/walk?resource_type=OS::Glance::Image")
    walk("GET", f"{NS}?limit=1")
    walk("PUT", f"{NS}/walk", json_body={"namespace": "walk", "visibility": "public"})
    walk("GET", f"{NS}/walk/properties")
    walk("GET", f"{NS}/walk/properties/p")
    walk("POST", f"{NS}/walk/properties", json_body={"name": "r", "title": "R", "type": "string"})
    walk("PUT", f"{NS}/walk/properties/r", json_body={"name": "r", "title": "R2",
                                                      "type": "string"})
    walk("GET", f"{NS}/walk/objects")
    walk("GET", f"{NS}/walk/objects/o")
    walk("POST", f"{NS}/walk/objects", json_body={"name": "o2", "required": []})
    walk("PUT", f"{NS}/walk/objects/o2", json_body={"name": "o3"})
    walk("GET", f"{NS}/walk/tags")
    walk("POST", f"{NS}/walk/tags/u")
    walk("GET", f"{NS}/walk/tags/u")
    walk("PUT", f"{NS}/walk/tags/u", json_body={"name": "v"})
    walk("POST", f"{NS}/walk/tags", json_body={"tags": [{"name": "w"}]},
         headers={"X-Openstack-Append": "true"})
    walk("GET", f"{NS}/walk/resource_types")
    walk("POST", f"{NS}/walk/resource_types", json_body={"name": "OS::Nova::Flavor"})
    walk("DELETE", f"{NS}/walk/resource_types/OS::Nova::Flavor")
    walk("GET", "/v2/metadefs/resource_types")
    for child in ("properties/r", "objects/o3", "tags/v", "properties", "objects", "tags"):
        walk("DELETE", f"{NS}/walk/{child}")
    walk("DELETE", f"{NS}/walk")


def test_the_check_catches_what_the_document_does_not_say() -> None:
    import webob

    undocumented = webob.Response(status=418)
    with pytest.raises(AssertionError):
        check("GET", "/v2/images", undocumented)
    wrong_body = webob.Response(json_body={"images": "not a list"})
    with pytest.raises(jsonschema.ValidationError):
        check("GET", "/v2/images", wrong_body)
    check("GET", "/v2/images", webob.Response(json_body={"images": [], "first": "/v2/images",
                                                         "schema": "/v2/schemas/images"}))
