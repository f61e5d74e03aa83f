"""Wire details measured on a real Glance 33 (conformance checker findings): which headers a
response carries, webob's explanation + detail rendering of some errors, and parameter quirks.

Each expectation below was observed on Glance 33.0.0 (see docs/conformance.md)."""

from __future__ import annotations

from .conftest import Client

UUID = "3b1a7d0e-0000-4000-8000-000000000001"
FORBIDDEN = "Access was denied to this resource.<br /><br />\n"
CONFLICT = "There was a conflict when trying to complete your request.<br /><br />\n"
JSON = {"Accept": "application/json"}
PLAIN = "<br /><br />\n\n\n"  # an explanation without detail


def _headers(resp: object) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headerlist}  # type: ignore[attr-defined]


def test_store_ids_header_lists_glance_reserved_stores(client: Client) -> None:
    resp = client.post("/v2/images", {"name": "a"})
    assert resp.status_int == 201
    assert resp.headers["OpenStack-image-store-ids"] == (
        "fast,slow,os_glance_staging_store,os_glance_tasks_store")


def test_version_documents_carry_no_request_id(client: Client) -> None:
    for method, path, status in (("GET", "/", 300), ("GET", "/versions", 200),
                                 ("GET", "/v3/images", 300), ("POST", "/versions", 200)):
        resp = client.request(method, path, json_body={} if method == "POST" else None)
        assert resp.status_int == status, path
        assert "x-openstack-request-id" not in _headers(resp), path


def test_v2_redirect_is_a_bodiless_302(client: Client) -> None:
    resp = client.get("/v2")
    assert resp.status_int == 302
    headers = _headers(resp)
    assert headers["content-type"] == "text/plain; charset=utf8"
    assert headers["location"] == "http://localhost/v2/"
    assert headers["x-openstack-request-id"].startswith("req-")
    assert "content-length" not in headers
    assert resp.body == b""


def test_204_without_content_type_for_no_data_and_member_delete(client: Client) -> None:
    image = client.create(name="q")
    resp = client.get(f"/v2/images/{image['id']}/file")
    assert resp.status_int == 204
    assert "content-type" not in _headers(resp) and "content-length" not in _headers(resp)
    assert client.post(f"/v2/images/{image['id']}/members", {"member": "p2"}).status_int == 200
    resp = client.delete(f"/v2/images/{image['id']}/members/p2")
    assert resp.status_int == 204
    assert "content-type" not in _headers(resp)
    # other 204s keep webob's default Content-Type, as Glance's do
    resp = client.put(f"/v2/images/{image['id']}/tags/t1")
    assert resp.status_int == 204
    assert _headers(resp)["content-type"] == "text/html; charset=UTF-8"


def test_messages_glance_renders_as_detail(client: Client) -> None:
    def message(resp: object, status: int) -> str:
        assert resp.status_int == status, resp.text  # type: ignore[attr-defined]
        return str(resp.json["message"])  # type: ignore[attr-defined]

    assert message(client.post("/v2/images", {"location": "x"}, headers=JSON), 403) == (
        FORBIDDEN + "Attribute 'location' is reserved.\n\n")
    assert message(client.post("/v2/images", {"os_glance_foo": "x"}, headers=JSON), 403) == (
        FORBIDDEN + "Attribute 'os_glance_foo' is reserved.\n\n")
    image = client.create(name="p")
    path = f"/v2/images/{image['id']}"
    assert message(client.patch(path, [{"op": "remove", "path": "/name"}], headers=JSON),
                   403) == FORBIDDEN + "Property name may not be removed.\n\n"
    assert message(client.patch(path, [{"op": "remove", "path": "/min_ram"}], headers=JSON),
                   403) == FORBIDDEN + "Property min_ram may not be removed.\n\n"
    assert message(client.patch(path, [{"op": "replace", "path": "/owner", "value": "x"}],
                                headers=JSON), 403) == (
        FORBIDDEN + "Owner can't be updated by non admin.\n\n")
    assert message(client.patch(path, [{"op": "replace", "path": "/locations", "value": []}],
                                headers=JSON), 403) == (
        FORBIDDEN + "Cannot set locations to empty list.\n\n")
    assert message(client.patch(path, [{"op": "remove", "path": "/color"}], headers=JSON),
                   409) == CONFLICT + "Property color does not exist.\n\n"
    assert message(client.patch(path, [{"op": "replace", "path": "/nothere", "value": "1"}],
                                headers=JSON), 409) == (
        CONFLICT + "Property nothere does not exist.\n\n")
    # ... while these stay explanations (Glance passes them as explanation=)
    assert message(client.post("/v2/images", {"locations": []}, headers=JSON), 403) == (
        "Attribute 'locations' is reserved." + PLAIN)
    assert message(client.patch(path, [{"op": "add", "path": "/os_glance_x", "value": "1"}],
                                headers=JSON), 403) == (
        "Attribute 'os_glance_x' is reserved." + PLAIN)
    assert message(client.post("/v2/images", {"status": "active"}, headers=JSON), 403) == (
        "Attribute 'status' is read-only." + PLAIN)


def test_repeated_limit_filters_on_a_property_named_limit(client: Client) -> None:
    client.create(name="a")
    client.create(name="b", limit="2")
    resp = client.get("/v2/images?limit=1&limit=2")
    assert resp.status_int == 200
    assert [i["name"] for i in resp.json["images"]] == ["b"]  # a full page of 1: a next link
    assert resp.json["first"] == "/v2/images?limit=2"
    resp = client.get("/v2/images?limit=1&limit=3")
    assert resp.json["images"] == [] and "next" not in resp.json
    assert len(client.get("/v2/images?limit=1").json["images"]) == 1


def test_not_allowed_method_parses_a_body_first(client: Client) -> None:
    path = f"/v2/images/{UUID}/file"
    resp = client.post(path, body=b"x", content_type="application/octet-stream", headers=JSON)
    assert resp.status_int == 400
    assert resp.json["message"] == "Malformed JSON in request body.<br /><br />\n\n\n"
    resp = client.post(path, body=b"5", content_type="application/json", headers=JSON)
    assert resp.status_int == 400 and "Unexpected body type" in resp.json["message"]
    resp = client.post(path, {})
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET, PUT"
    resp = client.post(path)
    assert resp.status_int == 405
