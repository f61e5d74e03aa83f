"""Routing, version negotiation, health check, request ids, 404/405/501, schemas, info."""

from __future__ import annotations

import pytest

from glance_domain_adapters.wsgi.routes import ROUTE_TABLE
from glance_domain_adapters.wsgi.settings import ApiSettings
from tests.reference import reference_document

from .conftest import ADMIN, ALICE, Client, build_app


def test_root_lists_versions_with_300(client: Client) -> None:
    resp = client.get("/")
    assert resp.status_int == 300
    assert resp.content_type == "application/json"
    ids = [v["id"] for v in resp.json["versions"]]
    assert ids[0] == "v2.15" and "v2.17" in ids and ids[-1] == "v2.0"
    current = [v for v in resp.json["versions"] if v["status"] == "CURRENT"]
    assert [v["id"] for v in current] == ["v2.17"]
    assert resp.json["versions"][0]["links"] == [{"rel": "self", "href": "http://localhost/v2/"}]


def test_versions_matches_reference_document(client: Client) -> None:
    resp = client.get("/versions")
    assert resp.status_int == 200
    reference = reference_document("versions.json")
    ours = [(v["id"], v["status"]) for v in resp.json["versions"]]
    assert ours == [(v["id"], v["status"]) for v in reference["versions"]]


def test_versions_without_multi_store_drop_store_versions() -> None:
    client = Client(build_app(api=ApiSettings(multi_store=False)), ADMIN)
    ids = [v["id"] for v in client.get("/versions").json["versions"]]
    assert "v2.8" not in ids and "v2.13" not in ids and "v2.9" in ids
    assert client.get("/v2.8/images").status_int == 300
    assert client.get("/v2/info/stores").status_int == 404


def test_public_endpoint_is_used_in_version_links() -> None:
    client = Client(build_app(api=ApiSettings(public_endpoint="https://img.example/")), ADMIN)
    href = client.get("/versions").json["versions"][0]["links"][0]["href"]
    assert href == "https://img.example/v2/"


@pytest.mark.parametrize("path", ["/v2.15/images", "/v2.0/images", "/v2.13/images", "/v2/images"])
def test_url_version_prefixes(client: Client, path: str) -> None:
    assert client.get(path).status_int == 200


@pytest.mark.parametrize("path", ["/v3/images", "/v2.14/images", "/images", "/v1/images"])
def test_unknown_versions_answer_300(client: Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_int == 300
    assert "versions" in resp.json


def test_accept_header_versioning(client: Client) -> None:
    headers = {"Accept": "application/vnd.openstack.images-v2.1"}
    assert client.get("/images", headers=headers).status_int == 200
    headers = {"Accept": "application/vnd.openstack.images-v3"}
    assert client.get("/images", headers=headers).status_int == 300


def test_v2_redirects_and_v2_slash_is_404(client: Client) -> None:
    resp = client.get("/v2")
    assert resp.status_int == 302
    assert resp.headers["Location"] == "http://localhost/v2/"
    assert client.get("/v2/").status_int == 404


def test_healthcheck(client: Client) -> None:
    resp = client.get("/healthcheck", as_={})
    assert resp.status_int == 200
    assert resp.body == b"OK"


def test_every_response_has_a_request_id(client: Client) -> None:
    """Every API response; the version documents do not (Glance serves them outside the
    middleware that adds the header), but the /v2 redirect does."""
    for path in ("/v2", "/v2/images", "/v2/nothing", "/v2/images/x/file"):
        rid = client.get(path).headers["x-openstack-request-id"]
        assert rid.startswith("req-")
    for path in ("/", "/versions", "/v3/images"):
        assert "x-openstack-request-id" not in client.get(path).headers
    assert client.delete("/v2/images").headers["x-openstack-request-id"].startswith("req-")


def test_client_request_id_is_echoed(client: Client) -> None:
    resp = client.get("/v2/images", headers={"X-Openstack-Request-Id": "req-abc"})
    assert resp.headers["x-openstack-request-id"] == "req-abc"
    resp = client.get("/v2/images", headers={"X-Openstack-Request-Id": "x" * 65})
    assert resp.status_int == 431


def test_unconfirmed_identity_is_401(client: Client) -> None:
    resp = client.get("/v2/images", as_={"X-Identity-Status": "Invalid"})
    assert resp.status_int == 401


def _allow_routes() -> list[tuple[str, str]]:
    cases = []
    for template, _methods, allow in ROUTE_TABLE:
        if allow is None or template in ("/v2/cache/clean", "/v2/cache/prune"):
            continue
        path = (template.replace("{image_id}", "3b1a7d0e-0000-4000-8000-000000000001")
                .replace("{", "").replace("}", ""))
        cases.append((path, allow))
    return cases


@pytest.mark.parametrize(("path", "allow"), _allow_routes())
def test_wrong_method_is_405_with_allow(client: Client, path: str, allow: str) -> None:
    method = "OPTIONS"
    resp = client.request(method, path)
    assert resp.status_int == 405
    assert resp.headers["Allow"] == allow


def test_cache_clean_is_shadowed_by_cache_image_route_as_in_glance(client: Client) -> None:
    # Glance connects /cache/{image_id} before /cache/clean, so its reject route wins.
    resp = client.post("/v2/cache/clean", {})
    assert resp.status_int == 405 and resp.headers["Allow"] == "DELETE, PUT"


def test_locations_delete_allows_only_post(client: Client) -> None:
    resp = client.delete("/v2/images/abc/locations")
    assert resp.status_int == 405 and resp.headers["Allow"] == "POST"


def test_routes_without_reject_are_404(client: Client) -> None:
    assert client.delete("/v2/info/usage").status_int == 404
    assert client.post("/v2/images/abc/tasks", {}).status_int == 404
    assert client.get("/v2/no/such/route").status_int == 404
    assert client.request("BREW", "/v2/no/such/route").status_int == 501


def test_head_on_get_route_is_405(client: Client) -> None:
    resp = client.request("HEAD", "/v2/images")
    assert resp.status_int == 405


def test_body_rejected_where_glance_rejects_it(client: Client) -> None:
    image = client.create(name="x")
    resp = client.request("GET", f"/v2/images/{image['id']}", body=b"{}",
                          content_type="application/json")
    assert resp.status_int == 400
    assert "A body is not expected" in resp.text


def test_error_body_formats_follow_accept(client: Client) -> None:
    resp = client.get("/v2/images/nope", headers={"Accept": "application/json"})
    assert resp.status_int == 404
    assert resp.json["code"] == "404 Not Found" and resp.json["title"] == "Not Found"
    resp = client.get("/v2/images/nope", headers={"Accept": "text/html"})
    assert resp.content_type == "text/html" and "<h1>404 Not Found</h1>" in resp.text
    resp = client.get("/v2/images/nope")
    assert resp.content_type == "text/plain" and resp.text.startswith("404 Not Found")


def test_schemas_match_reference_structure(client: Client) -> None:
    def strip(doc: object) -> object:
        if isinstance(doc, dict):
            return {k: strip(v) for k, v in doc.items() if k != "description"}
        if isinstance(doc, list):
            return [strip(v) for v in doc]
        return doc

    for name in ("image", "images"):
        resp = client.get(f"/v2/schemas/{name}")
        assert resp.status_int == 200
        reference = reference_document(f"schema-{name}.json")
        assert strip(resp.json) == strip(reference)
        assert list(resp.json) == list(reference)


@pytest.mark.parametrize("name", ["member", "members", "task", "tasks", "metadefs/namespaces"])
def test_other_schemas(client: Client, name: str) -> None:
    resp = client.get(f"/v2/schemas/{name}")
    assert resp.status_int == 200
    assert resp.json["name"] == name.split("/")[-1]


def test_member_schema_shape(client: Client) -> None:
    doc = client.get("/v2/schemas/members").json
    assert doc["links"] == [{"rel": "describedby", "href": "{schema}"}]
    item = doc["properties"]["members"]["items"]
    assert set(item["properties"]) == {
        "member_id", "image_id", "created_at", "updated_at", "status", "schema"}


def test_info_import(client: Client) -> None:
    doc = client.get("/v2/info/import").json
    assert doc == {"import-methods": {"description": "Import methods available.",
                                      "type": "array",
                                      "value": ["glance-direct", "web-download",
                                                "copy-image"]}}
    configured = Client(build_app(api=ApiSettings(enabled_import_methods=("web-download",))),
                        ADMIN)
    assert configured.get("/v2/info/import").json["import-methods"]["value"] == ["web-download"]


def test_info_stores_and_detail(client: Client) -> None:
    assert client.get("/v2/info/stores").json == {
        "stores": [{"id": "fast", "default": "true"}, {"id": "slow"}]}
    assert client.get("/v2/info/stores/detail").status_int == 403
    detail = client.get("/v2/info/stores/detail", as_=ADMIN).json["stores"]
    assert detail[0]["id"] == "fast" and {"type", "properties", "weight"} <= set(detail[0])


def test_info_usage(client: Client) -> None:
    assert client.get("/v2/info/usage").json == {"usage": {}}


def test_tasks_cache_metadefs(client: Client) -> None:
    assert client.get("/v2/tasks").status_int == 403  # tasks_api_access: admins only
    assert client.get("/v2/tasks", as_=ADMIN).json["tasks"] == []
    assert client.get("/v2/tasks/abc", as_=ADMIN).status_int == 404
    resp = client.get("/v2/cache")  # the rule first (admins only), as Glance
    assert resp.status_int == 403 and "cache_list" in resp.text
    resp = client.get("/v2/cache", as_=ADMIN)
    assert resp.status_int == 404 and "Caching via API is not supported" in resp.text
    assert client.get("/v2/metadefs/namespaces").json["namespaces"] == []
    assert client.get("/v2/metadefs/namespaces/OS::Compute").status_int == 404
    assert client.get("/v2/metadefs/resource_types").json == {"resource_types": []}


def test_no_identity_is_local_admin(client: Client) -> None:
    resp = client.post("/v2/images", {"name": "anon"}, as_={})
    assert resp.status_int == 201
    assert resp.json["owner"] == "admin"


@pytest.mark.parametrize(("method", "path", "rule"), [
    ("GET", "/v2/cache", "cache_list"),
    ("DELETE", "/v2/cache", "cache_delete"),
    ("GET", "/v2/cache/nodes/{id}", "list_cached_nodes"),
    ("PUT", "/v2/cache/{id}", "cache_image"),
    ("DELETE", "/v2/cache/{id}", "cache_delete"),
])
def test_cache_api_checks_its_rule_then_is_not_supported(
    client: Client, method: str, path: str, rule: str
) -> None:
    image_id = client.create(name="cached")["id"]
    url = path.format(id=image_id)
    refused = client.request(method, url)
    assert refused.status_int == 403 and f"{rule} action" in refused.text
    answered = client.request(method, url, as_=ADMIN)
    assert answered.status_int == 404
    assert "Caching via API is not supported at this site." in answered.text


def test_cache_clean_and_prune_are_shadowed_as_in_glance(client: Client) -> None:
    """Glance connects ``/cache/{image_id}`` (and its reject route) before ``/cache/clean``
    and ``/cache/prune``, so a POST there is a 405 for the image route."""
    for path in ("/v2/cache/clean", "/v2/cache/prune"):
        resp = client.post(path, as_=ADMIN)
        assert resp.status_int == 405 and resp.headers["Allow"] == "DELETE, PUT"


def test_cache_api_on_an_unknown_image_is_404_naming_it(client: Client) -> None:
    missing = "0b7a1bd0-6b1f-4f7a-9d5b-1f0d2b1f7c11"
    for method in ("PUT", "DELETE"):
        resp = client.request(method, f"/v2/cache/{missing}", as_=ADMIN)
        assert resp.status_int == 404 and f"Image {missing} not found." in resp.text


def test_location_patch_rules_come_before_the_invisible_refusal(client: Client) -> None:
    image = client.create(name="loc")
    remove = [{"op": "remove", "path": "/locations/0"}]
    add = [{"op": "add", "path": "/locations/-",
            "value": {"url": "http://127.0.0.1/x", "metadata": {}}}]
    member = client.patch(f"/v2/images/{image['id']}", remove)
    assert member.status_int == 403 and "delete_image_location action" in member.text
    owner_add = client.patch(f"/v2/images/{image['id']}", add)  # members may set locations
    assert owner_add.status_int == 403 and "locations are invisible" in owner_add.text
    admin = client.patch(f"/v2/images/{image['id']}", remove, as_=ADMIN)
    assert admin.status_int == 403 and "remove locations if locations are invisible" in admin.text
    reader = client.patch(f"/v2/images/{image['id']}", add,
                          as_={**ALICE, "X-Roles": "reader"})
    assert reader.status_int == 403 and "set_image_location action" in reader.text


def test_an_empty_visibility_filter_matches_nothing(client: Client) -> None:
    client.create(name="some")
    assert client.get("/v2/images").json["images"]
    assert client.get("/v2/images?visibility=").json["images"] == []


def test_repeated_list_parameters_count_as_glance_reads_them(client: Client) -> None:
    queued = client.create(name="rep-q")["id"]
    public = client.create(name="rep-p", visibility="public", as_=ADMIN)["id"]

    def ids(query: str) -> set[str]:
        return {i["id"] for i in client.get(f"/v2/images?{query}").json["images"]}

    assert queued in ids("status=active&status=queued")  # the last value
    assert queued not in ids("status=queued&status=active")
    assert ids("visibility=public&visibility=private") == set()  # both must hold
    assert public in ids("visibility=public&visibility=public")


def test_a_repeated_visibility_is_validated_on_its_last_value(client: Client) -> None:
    client.create(name="vis", visibility="public", as_=ADMIN)
    refused = client.get("/v2/images?visibility=public&visibility=bogus")
    assert refused.status_int == 400 and "Invalid visibility value: bogus" in refused.text
    scoped = client.get("/v2/images?visibility=bogus&visibility=public")
    assert scoped.status_int == 200 and scoped.json["images"] == []
