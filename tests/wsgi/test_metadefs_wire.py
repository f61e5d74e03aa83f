"""Metadefs details measured on a real Glance 33 with tools/conformance.py (area ``metadefs``):
object listing order and echo, property names in lists, rename conflicts."""

from __future__ import annotations

from tests.wsgi.conftest import ADMIN, Client

NS = "/v2/metadefs/namespaces"
JSON = {"Accept": "application/json"}


def _admin(client: Client) -> Client:
    return Client(client.app, ADMIN)


def test_objects_listed_by_name_ignoring_paging(client: Client) -> None:
    admin = _admin(client)
    assert admin.post(NS, {"namespace": "N", "objects": [{"name": "o1"}]}).status_int == 201
    for name in ("o0", "a9", "o5"):
        assert admin.post(f"{NS}/N/objects", {"name": name}).status_int == 201
    names = [o["name"] for o in admin.get(f"{NS}/N/objects").json["objects"]]
    assert names == ["a9", "o0", "o1", "o5"]
    # Glance validates limit/marker/sort_dir but its object repository ignores them
    paged = admin.get(f"{NS}/N/objects?limit=1&marker=o1&sort_dir=asc").json["objects"]
    assert [o["name"] for o in paged] == names
    assert [o["name"] for o in admin.get(f"{NS}/N").json["objects"]] == names


def test_object_echo_and_full_views(client: Client) -> None:
    admin = _admin(client)
    assert admin.post(NS, {"namespace": "N"}).status_int == 201
    created = admin.post(f"{NS}/N/objects", {"name": "o"}).json
    assert "required" not in created and "properties" not in created
    created = admin.post(f"{NS}/N/objects", {"name": "p", "required": [],
                                             "properties": {}}).json
    assert created["required"] == [] and created["properties"] == {}
    updated = admin.put(f"{NS}/N/objects/o", json_body={"name": "o", "required": ["a"]}).json
    assert updated["required"] == ["a"] and "properties" not in updated
    shown = admin.get(f"{NS}/N/objects/o").json
    assert shown["required"] == ["a"] and shown["properties"] == {}
    listed = admin.get(f"{NS}/N/objects").json["objects"]
    assert all(o["required"] is not None and o["properties"] == {} for o in listed)


def test_properties_written_through_the_api_keep_their_name(client: Client) -> None:
    admin = _admin(client)
    body = {"namespace": "N", "properties": {"p1": {"title": "P1", "type": "string"}}}
    assert admin.post(NS, body).status_int == 201
    res = admin.post(f"{NS}/N/properties", {"name": "p3", "title": "P3", "type": "string"})
    assert res.json == {"name": "p3", "type": "string", "title": "P3"}
    listed = admin.get(f"{NS}/N/properties").json["properties"]
    assert listed == {"p1": {"type": "string", "title": "P1"},
                      "p3": {"name": "p3", "type": "string", "title": "P3"}}
    res = admin.put(f"{NS}/N/properties/p1", json_body={"name": "p1", "title": "P1x",
                                                       "type": "string"})
    assert res.status_int == 200
    shown = admin.get(f"{NS}/N").json["properties"]
    assert shown["p1"] == {"name": "p1", "type": "string", "title": "P1x"}


def test_rename_onto_an_existing_name_is_worded_as_an_update(client: Client) -> None:
    admin = _admin(client)
    for name in ("A", "B"):
        assert admin.post(NS, {"namespace": name, "properties": {
            "p": {"title": "P", "type": "string"}, "q": {"title": "Q", "type": "string"}},
            "objects": [{"name": "o"}, {"name": "r"}]}).status_int == 201
    res = admin.put(f"{NS}/B", json_body={"namespace": "A"}, headers=JSON)
    assert res.status_int == 409
    assert res.json["message"].startswith(
        "Invalid update. It would result in a duplicate metadata definition namespace with "
        "the same name of A<br />")
    res = admin.put(f"{NS}/A/properties/p", headers=JSON,
                    json_body={"name": "q", "title": "Q", "type": "string"})
    assert res.status_int == 409 and res.json["message"].startswith(
        "Invalid update. It would result in a duplicate metadata definition property with "
        "the same name=q in namespace=A.")
    res = admin.put(f"{NS}/A/objects/o", json_body={"name": "r"}, headers=JSON)
    assert res.status_int == 409 and res.json["message"].startswith(
        "Invalid update. It would result in a duplicate metadata definition object with "
        "the same name=r in namespace=A.")
    # creating a duplicate keeps the create wording
    res = admin.post(NS, {"namespace": "A"}, headers=JSON)
    assert res.status_int == 409 and res.json["message"].startswith(
        "The metadata definition namespace=A already exists.")
