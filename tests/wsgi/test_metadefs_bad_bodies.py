"""Metadef writes with a JSON body that is not an object: a 400, never a 500.

``read_json`` accepts arrays (image PATCH bodies are arrays) and the metadef schemas, like
Glance's, have no top-level ``type``: an array passed validation and reached the controllers,
which indexed it like a mapping.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.wsgi.conftest import ADMIN, Client

NS = "/v2/metadefs/namespaces"
WRITES = [
    ("POST", NS), ("PUT", NS + "/{n}"),
    ("POST", NS + "/{n}/properties"), ("PUT", NS + "/{n}/properties/p"),
    ("POST", NS + "/{n}/objects"), ("PUT", NS + "/{n}/objects/o"),
    ("POST", NS + "/{n}/tags"), ("POST", NS + "/{n}/tags?append=true"),
    ("PUT", NS + "/{n}/tags/t"), ("POST", NS + "/{n}/resource_types"),
]


@pytest.fixture
def admin(client: Client) -> Client:
    admin = Client(client.app, ADMIN)
    created = admin.post(NS, {
        "namespace": "ok", "properties": {"p": {"title": "t", "type": "string"}},
        "objects": [{"name": "o"}], "tags": [{"name": "t"}]})
    assert created.status_int == 201, created.text
    return admin


@pytest.mark.parametrize("body", [[], [{"name": "x"}], "text", 5, None])
@pytest.mark.parametrize("namespace", ["ok", "missing"])
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_body_that_is_not_an_object_is_a_400(
        admin: Client, method: str, path: str, namespace: str, body: Any) -> None:
    res = admin.request(method, path.format(n=namespace), json_body=body,
                        body=b"null" if body is None else None,
                        content_type="application/json")
    assert res.status_int == 400, res.text
    if isinstance(body, list):
        assert "is not of type 'object'" in res.text, res.text


@pytest.mark.parametrize(("key", "item"), [
    ("objects", {"description": "no name"}), ("objects", {}),
    ("tags", {}), ("resource_type_associations", {"prefix": "p:"}),
])
def test_embedded_item_without_a_name_is_a_400_and_nothing_is_stored(
        admin: Client, key: str, item: dict[str, Any]) -> None:
    # found by the OpenAPI fuzz test: an embedded object without a name was a KeyError (500)
    resp = admin.post(NS, {"namespace": "unnamed-items", key: [item]})
    assert resp.status_int == 400, resp.text
    assert f"every item of '{key}' needs a 'name' string" in resp.text
    assert admin.get(NS + "/unnamed-items").status_int == 404
