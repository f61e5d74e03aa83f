"""Images: create/show/list/update/delete, JSON shape, patch rules, list query parsing."""

from __future__ import annotations

import re

import pytest

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.settings import ApiSettings

from .conftest import ADMIN, ALICE, BOB, Client, build_app

UUID = "3b1a7d0e-0000-4000-8000-000000000001"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_create_shape_and_headers(client: Client) -> None:
    resp = client.post("/v2/images", {"name": "a", "id": UUID, "hw_x": "1", "tags": ["t"]})
    assert resp.status_int == 201
    assert resp.headers["Location"] == f"http://localhost/v2/images/{UUID}"
    assert resp.headers["OpenStack-image-store-ids"] == (
        "fast,slow,os_glance_staging_store,os_glance_tasks_store")
    assert resp.headers["OpenStack-image-import-methods"] == (
        "glance-direct,web-download,copy-image")
    body = resp.json
    assert set(body) == {
        "hw_x", "name", "disk_format", "container_format", "visibility", "size", "virtual_size",
        "status", "checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden",
        "os_hash_algo", "os_hash_value", "id", "created_at", "updated_at", "tags", "self",
        "file", "schema"}
    assert next(iter(body)) == "hw_x"
    assert body["self"] == f"/v2/images/{UUID}" and body["file"] == f"/v2/images/{UUID}/file"
    assert body["schema"] == "/v2/schemas/image" and body["tags"] == ["t"]
    assert TIMESTAMP.match(body["created_at"]) and body["visibility"] == "shared"


def test_create_errors(client: Client) -> None:
    assert client.post("/v2/images", {"self": "x"}).status_int == 403
    assert client.post("/v2/images", {"status": "active"}).status_int == 403
    assert client.post("/v2/images", {"os_glance_x": "1"}).status_int == 403
    assert client.post("/v2/images", {"deleted": "1"}).status_int == 403
    assert client.post("/v2/images", {"name": "x" * 256}).status_int == 400
    assert client.post("/v2/images", {"disk_format": "floppy"}).status_int == 400
    assert client.post("/v2/images", {"prop": 5}).status_int == 400
    assert client.post("/v2/images", {"k" * 256: "v"}).status_int == 400
    assert client.post("/v2/images", {"id": "not-a-uuid"}).status_int == 400
    assert client.post("/v2/images", [1]).status_int == 400
    resp = client.request("POST", "/v2/images", body=b"{nope", content_type="application/json")
    assert resp.status_int == 400 and "Malformed JSON" in resp.text
    resp = client.request("POST", "/v2/images", body=b"3", content_type="application/json")
    assert resp.status_int == 400
    assert client.request("POST", "/v2/images").status_int == 400
    client.post("/v2/images", {"id": UUID})
    assert client.post("/v2/images", {"id": UUID}).status_int == 409


def test_show_and_not_found(client: Client) -> None:
    image = client.create(name="s")
    assert client.get(f"/v2/images/{image['id']}").json == image
    assert client.get(f"/v2/images/{UUID}").status_int == 404
    assert client.get("/v2/images/not-a-uuid").status_int == 404
    assert client.get(f"/v2/images/{image['id']}", as_=BOB).status_int == 404


def test_optional_fields() -> None:
    app = build_app(DomainSettings(show_image_direct_url=True, show_multiple_locations=True),
                    ApiSettings(multi_store=False))
    client = Client(app, ADMIN)
    image = client.create(name="x", disk_format="raw", container_format="bare")
    assert image["locations"] == [] and "direct_url" not in image and "stores" not in image
    client.upload(image["id"], b"data")
    shown = client.get(f"/v2/images/{image['id']}").json
    assert shown["direct_url"] and shown["locations"][0]["url"] == shown["direct_url"]


def test_delete(client: Client) -> None:
    image = client.create(name="d")
    resp = client.delete(f"/v2/images/{image['id']}")
    assert resp.status_int == 204
    assert client.delete(f"/v2/images/{image['id']}").status_int == 404
    protected = client.create(name="p", protected=True)
    assert client.delete(f"/v2/images/{protected['id']}").status_int == 403


def test_patch_operations(client: Client) -> None:
    image = client.create(name="p", foo="bar")
    url = f"/v2/images/{image['id']}"
    resp = client.patch(url, [
        {"op": "replace", "path": "/name", "value": "q"},
        {"op": "add", "path": "/baz", "value": "1"},
        {"op": "remove", "path": "/foo"},
        {"op": "add", "path": "/tags", "value": ["x", "y"]},
        {"op": "replace", "path": "/min_ram", "value": 64},
    ])
    assert resp.status_int == 200, resp.text
    body = resp.json
    assert body["name"] == "q" and body["baz"] == "1" and "foo" not in body
    assert body["tags"] == ["x", "y"] and body["min_ram"] == 64
    old_style = client.patch(url, [{"replace": "/name", "value": "r"}],
                             content_type="application/openstack-images-v2.0-json-patch")
    assert old_style.status_int == 200 and old_style.json["name"] == "r"
    dup = client.patch(url, [{"add": "/baz", "value": "2"}],
                       content_type="application/openstack-images-v2.0-json-patch")
    assert dup.status_int == 409


@pytest.mark.parametrize(("ops", "status"), [
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/id", "value": UUID}], 403),
    ([{"op": "add", "path": "/os_glance_foo", "value": "x"}], 403),
    ([{"op": "add", "path": "/deleted", "value": "x"}], 403),
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "remove", "path": "/nope"}], 409),
    ([{"op": "replace", "path": "/nope", "value": "x"}], 409),
    ([{"op": "replace", "path": "/name", "value": "x" * 256}], 400),
    ([{"op": "replace", "path": "/min_ram", "value": "big"}], 400),
    ([{"op": "add", "path": "/prop", "value": 3}], 400),
    ([{"op": "add", "path": "/tags/-", "value": "x"}], 400),
    ([{"op": "move", "path": "/name", "value": "x"}], 400),
    ([{"path": "/name", "value": "x"}], 400),
    ([{"op": "replace", "value": "x"}], 400),
    ([{"op": "replace", "path": "/name"}], 400),
    ([{"op": "replace", "path": "name", "value": "x"}], 400),
    ([{"op": "replace", "path": "/a//b", "value": "x"}], 400),
    ([{"op": "replace", "path": "/a~2", "value": "x"}], 400),
    (["replace"], 400),
    ({"op": "replace"}, 400),
    ([{"op": "replace", "path": "/visibility", "value": "galaxy"}], 400),
    ([{"op": "replace", "path": "/owner", "value": "someone"}], 403),
])
def test_patch_errors(client: Client, ops: object, status: int) -> None:
    image = client.create(name="e")
    resp = client.patch(f"/v2/images/{image['id']}", ops)
    assert resp.status_int == status, resp.text


def test_patch_media_type(client: Client) -> None:
    image = client.create(name="m")
    resp = client.patch(f"/v2/images/{image['id']}", [], content_type="application/json")
    assert resp.status_int == 415
    assert resp.headers["Accept-Patch"] == (
        "application/openstack-images-v2.0-json-patch, "
        "application/openstack-images-v2.1-json-patch")
    assert client.patch(f"/v2/images/{image['id']}", []).status_int == 200
    assert client.patch(f"/v2/images/{UUID}", []).status_int == 404


def test_patch_other_project_is_404_or_403(client: Client) -> None:
    image = client.create(name="o", visibility="public", as_=ADMIN)
    resp = client.patch(f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": "/name", "value": "z"}])
    assert resp.status_int == 403


def _ids(resp: object) -> list[str]:
    return [i["id"] for i in resp.json["images"]]  # type: ignore[attr-defined]


def test_list_pagination_and_links(client: Client) -> None:
    ids = [client.create(name=f"n{i}")["id"] for i in range(5)]
    resp = client.get("/v2/images?limit=2&sort_key=name&sort_dir=asc")
    assert resp.status_int == 200
    body = resp.json
    assert _ids(resp) == ids[:2]
    assert body["first"] == "/v2/images?limit=2&sort_key=name&sort_dir=asc"
    assert body["schema"] == "/v2/schemas/images"
    assert body["next"] == f"/v2/images?limit=2&sort_key=name&sort_dir=asc&marker={ids[1]}"
    page2 = client.get(body["next"])
    assert _ids(page2) == ids[2:4]
    last = client.get(page2.json["next"])
    assert _ids(last) == ids[4:] and "next" not in last.json
    plain = client.get("/v2/images").json
    assert plain["first"] == "/v2/images" and "next" not in plain
    # created_at desc with sub-second precision (as Glance), though printed in whole seconds
    assert [i["id"] for i in plain["images"]] == ids[::-1]


def test_list_filters(client: Client) -> None:
    a = client.create(name="alpha", disk_format="raw", container_format="bare",
                      os_distro="ubuntu")
    b = client.create(name="beta,x", disk_format="qcow2", tags=["t1", "t2"])
    c = client.create(name="gamma", protected=True)
    client.upload(a["id"], b"12345")
    assert _ids(client.get("/v2/images?name=alpha")) == [a["id"]]
    assert set(_ids(client.get('/v2/images?name=in:alpha,"beta,x"'))) == {a["id"], b["id"]}
    assert _ids(client.get("/v2/images?os_distro=ubuntu")) == [a["id"]]
    assert _ids(client.get("/v2/images?tag=t1&tag=t2")) == [b["id"]]
    assert _ids(client.get("/v2/images?tag=t1&tag=zz")) == []
    assert _ids(client.get("/v2/images?size_min=5&size_max=5")) == [a["id"]]
    assert _ids(client.get("/v2/images?status=active")) == [a["id"]]
    assert _ids(client.get("/v2/images?protected=true")) == [c["id"]]
    assert _ids(client.get("/v2/images?disk_format=qcow2")) == [b["id"]]
    assert len(_ids(client.get("/v2/images?created_at=gte:2000-01-01T00:00:00Z"))) == 3
    assert _ids(client.get("/v2/images?created_at=lt:2000-01-01T00:00:00Z")) == []
    assert len(_ids(client.get("/v2/images?visibility=shared"))) == 3
    assert _ids(client.get("/v2/images?os_hidden=true")) == []


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=-1", "sort_key=owner", "sort_dir=up", "sort=name:up",
    "sort=name&sort_key=name", "sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc",
    "visibility=everyone", "member_status=maybe", "os_hidden=maybe", "protected=yes",
    "changes-since=2020-01-01", "name=like:x", "created_at=soon",
    "created_at=around:2020-01-01T00:00:00", "size_min=big", 'name=in:"a',
    "marker=3b1a7d0e-0000-4000-8000-00000000ffff",
])
def test_list_bad_params_are_400(client: Client, query: str) -> None:
    resp = client.get(f"/v2/images?{query}")
    assert resp.status_int == 400, resp.text


def test_huge_limit_is_clamped(client: Client) -> None:
    for i in range(3):
        client.create(name=f"c{i}")
    app = build_app(DomainSettings(api_limit_max=2))
    small = Client(app, ADMIN)
    for i in range(3):
        small.create(name=f"c{i}")
    resp = small.get("/v2/images?limit=99999999999999999999")
    assert resp.status_int == 200 and len(resp.json["images"]) == 2 and "next" in resp.json


def test_next_link_collapses_repeated_params_like_glance(client: Client) -> None:
    for i in range(2):
        client.create(name=f"r{i}", tags=["a", "b"])
    body = client.get("/v2/images?limit=1&tag=a&tag=b").json
    assert body["first"] == "/v2/images?limit=1&tag=b"
    assert body["next"].startswith("/v2/images?limit=1&tag=b&marker=")


def test_image_tasks_route(client: Client) -> None:
    image = client.create(name="t")
    assert client.get(f"/v2/images/{image['id']}/tasks").json == {"tasks": []}
    assert client.get(f"/v2/images/{UUID}/tasks").status_int == 404


def test_import_not_available() -> None:
    client = Client(build_app(DomainSettings(enabled_import_methods=())), ALICE)
    image = client.create(name="i")
    url = f"/v2/images/{image['id']}/import"
    assert client.post(url, {}).status_int == 400
    assert client.post(url, {"method": {}}).status_int == 400
    resp = client.post(url, {"method": {"name": "web-download", "uri": "http://x"}})
    assert resp.status_int == 400 and "Unknown import method" in resp.text
    resp = client.put(f"/v2/images/{image['id']}/stage", body=b"x",
                      content_type="application/octet-stream")
    assert resp.status_int == 404
