"""The metadefs API over an in-memory gateway: shapes, statuses and messages as Glance 33's."""

from __future__ import annotations

from typing import Any

from tests.wsgi.conftest import ADMIN, ALICE, BOB, Client

NS = "/v2/metadefs/namespaces"
FULL: dict[str, Any] = {
    "namespace": "N1", "display_name": "d", "description": "x", "visibility": "public",
    "properties": {"p1": {"title": "P1", "type": "string", "enum": ["a", "b"]}},
    "objects": [{"name": "o1", "required": ["q"],
                 "properties": {"q": {"title": "Q", "type": "integer", "minimum": 1}}}],
    "tags": [{"name": "t1"}, {"name": "t2"}],
    "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
}


def _admin(client: Client) -> Client:
    return Client(client.app, ADMIN)


def test_create_show_list_and_prefix(client: Client) -> None:
    admin = _admin(client)
    res = admin.post(NS, FULL)
    assert res.status_int == 201, res.text
    assert res.headers["Location"].endswith("/v2/metadefs/namespaces/N1")
    body = res.json
    assert body["owner"] == "admin-project" and body["protected"] is False
    assert body["tags"] == [{"name": "t1"}, {"name": "t2"}]
    assert body["resource_type_associations"] == [{"name": "OS::Glance::Image", "prefix": "hw_"}]
    shown = admin.get(NS + "/N1").json
    assert shown["tags"] == [{"name": "t2"}, {"name": "t1"}]  # created_at, id descending
    assert shown["properties"] == {"p1": {"type": "string", "title": "P1", "enum": ["a", "b"]}}
    assert shown["objects"][0]["self"] == NS + "/N1/objects/o1"
    assert shown["schema"] == "/v2/schemas/metadefs/namespace"
    prefixed = admin.get(NS + "/N1?resource_type=OS::Glance::Image").json
    assert list(prefixed["properties"]) == ["hw_p1"]
    assert prefixed["objects"][0]["required"] == ["hw_q"]
    listing = admin.get(NS).json
    assert listing["first"] == NS and listing["schema"] == "/v2/schemas/metadefs/namespaces"
    assert [n["namespace"] for n in listing["namespaces"]] == ["N1"]
    assert "properties" not in listing["namespaces"][0]
    assert admin.get("/v2/metadefs/resource_types").json["resource_types"][0]["name"] == \
        "OS::Glance::Image"
    # a public namespace is visible to other projects, but only admins write
    assert client.get(NS + "/N1", as_=BOB).status_int == 200
    res = client.post(NS, {"namespace": "N2"}, as_=BOB)
    assert res.status_int == 403
    assert "add_metadef_namespace" in res.text
    assert admin.post(NS, {"namespace": "N1"}).status_int == 409
    res = admin.post(NS, {"display_name": "x"})
    assert res.status_int == 400 and "'namespace' is a required property" in res.text


def test_private_namespaces_are_hidden(client: Client) -> None:
    admin = _admin(client)
    admin.post(NS, {"namespace": "priv", "owner": "alice-project"})
    assert client.get(NS + "/priv", as_=BOB).status_int == 404
    assert client.get(NS + "/priv", as_=ALICE).status_int == 200
    assert client.get(NS, as_=BOB).json["namespaces"] == []
    res = client.get(NS + "/priv/tags", as_=BOB)
    assert res.status_int == 404 and "Namespace priv not found" in res.text


def test_tags_bulk_append_rename_and_delete(client: Client) -> None:
    admin = _admin(client)
    admin.post(NS, {"namespace": "T", "tags": [{"name": "a"}]})
    assert admin.post(NS + "/T/tags/a").status_int == 409
    assert admin.post(NS + "/T/tags/b").status_int == 201
    assert admin.put(NS + "/T/tags/b", json_body={"name": "c"}).json["name"] == "c"
    res = admin.post(NS + "/T/tags", {"tags": [{"name": "x1"}, {"name": "x2"}]})
    assert res.status_int == 201
    assert admin.get(NS + "/T/tags").json == {"tags": [{"name": "x2"}, {"name": "x1"}]}
    append = {"X-Openstack-Append": "true"}
    assert admin.post(NS + "/T/tags", {"tags": [{"name": "x2"}]}, headers=append
                      ).status_int == 409
    assert admin.post(NS + "/T/tags", {"tags": [{"name": "x3"}]}, headers=append
                      ).status_int == 201
    assert admin.post(NS + "/T/tags", {"tags": [{"name": "y"}, {"name": "y"}]}
                      ).status_int == 409
    page = admin.get(NS + "/T/tags?limit=1&sort_key=name&sort_dir=asc").json
    assert page == {"tags": [{"name": "x1"}]}
    assert admin.get(NS + "/T/tags?marker=zzz").status_int == 404
    assert admin.delete(NS + "/T/tags/x1").status_int == 204
    assert admin.delete(NS + "/T/tags").status_int == 204
    assert admin.get(NS + "/T/tags").json == {"tags": []}


def test_protected_namespace_and_update_defaults(client: Client) -> None:
    admin = _admin(client)
    admin.post(NS, {"namespace": "P", "display_name": "d", "visibility": "public"})
    updated = admin.put(NS + "/P", json_body={"namespace": "P", "protected": True}).json
    assert updated["visibility"] == "private" and "display_name" not in updated
    res = admin.delete(NS + "/P")
    assert res.status_int == 403 and "is protected and cannot be deleted" in res.text
    assert admin.delete(NS + "/P/tags").status_int == 403
    admin.put(NS + "/P", json_body={"namespace": "P2", "protected": False})
    assert admin.get(NS + "/P").status_int == 404
    assert admin.delete(NS + "/P2").status_int == 204


def test_properties_objects_and_associations(client: Client) -> None:
    admin = _admin(client)
    admin.post(NS, {"namespace": "C"})
    prop = {"name": "speed", "title": "Speed", "type": "integer", "minimum": 1}
    res = admin.post(NS + "/C/properties", prop)
    assert res.status_int == 201 and res.json == {"name": "speed", "type": "integer",
                                                  "title": "Speed", "minimum": 1}
    assert admin.post(NS + "/C/properties", prop).status_int == 409
    assert admin.post(NS + "/C/properties", {"name": "x"}).status_int == 400
    assert admin.put(NS + "/C/properties/speed", json_body={**prop, "name": "rate"}
                     ).json["name"] == "rate"
    res = admin.get(NS + "/C/properties/speed")
    assert res.status_int == 404 and "Could not find property speed" in res.text
    obj = admin.post(NS + "/C/objects", {"name": "o", "properties": {}}).json
    assert obj["self"] == NS + "/C/objects/o"
    objects = admin.get(NS + "/C/objects").json
    assert objects["schema"] == "v2/schemas/metadefs/objects" and len(objects["objects"]) == 1
    assoc = admin.post(NS + "/C/resource_types", {"name": "OS::Nova::Flavor", "prefix": "f:"})
    assert assoc.status_int == 201
    assert admin.get(NS + "/C/properties/f:rate?resource_type=OS::Nova::Flavor").status_int \
        == 200
    assert admin.get(NS + "/C/resource_types").json["resource_type_associations"][0][
        "prefix"] == "f:"
    res = admin.delete(NS + "/C/resource_types/OS::Cinder::Volume")
    assert res.status_int == 404 and "Failed to find resource type" in res.text
    assert admin.delete(NS + "/C/resource_types/OS::Nova::Flavor").status_int == 204
    assert admin.delete(NS + "/C/properties").status_int == 204
    assert admin.delete(NS + "/C/objects/o").status_int == 204
    assert admin.get(NS + "/missing/properties").text.count("Namespace missing not found") == 1


def test_list_parameters(client: Client) -> None:
    admin = _admin(client)
    for name in ("a", "b", "c"):
        admin.post(NS, {"namespace": name, "visibility": "public" if name != "b" else "private"})
    page = admin.get(NS + "?limit=2&sort_key=namespace&sort_dir=asc").json
    assert [n["namespace"] for n in page["namespaces"]] == ["a", "b"]
    assert page["next"] == NS + "?limit=2&sort_key=namespace&sort_dir=asc&marker=b"
    rest = admin.get(page["next"]).json
    assert [n["namespace"] for n in rest["namespaces"]] == ["c"]
    assert [n["namespace"] for n in admin.get(NS + "?visibility=private").json[
        "namespaces"]] == ["b"]
    assert admin.get(NS + "?visibility=shared").status_int == 400
    assert admin.get(NS + "?sort_dir=up").status_int == 400
    assert admin.get(NS + "?limit=-1").status_int == 400
    assert admin.get(NS + "?marker=nope").status_int == 404


def test_schemas_have_glances_structure(client: Client) -> None:
    doc = client.get("/v2/schemas/metadefs/namespace").json
    assert doc["name"] == "namespace" and doc["required"] == ["namespace"]
    assert doc["properties"]["visibility"]["enum"] == ["public", "private"]
    tags = client.get("/v2/schemas/metadefs/tags").json
    assert tags["properties"]["tags"]["items"]["name"] == "tag"
