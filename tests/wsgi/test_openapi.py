"""The OpenAPI document: valid 3.1, generated from the route table (no drift either way),
served at ``GET /v2/openapi.json`` like any other ``/v2`` resource, committed under docs/."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
from openapi_spec_validator import validate  # installed with moto[server] (the test extra)

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.app import schema_documents
from glance_domain_adapters.wsgi.openapi import DocumentError, build_document, encode
from glance_domain_adapters.wsgi.openapi.document import unversioned_paths, v2_paths
from glance_domain_adapters.wsgi.openapi.operations import OPERATIONS
from glance_domain_adapters.wsgi.routes import ROUTE_TABLE

from .conftest import ADMIN, Client

ROOT = pathlib.Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(schema_documents(DomainSettings()))


def _operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in doc["paths"].items()
            for method in item if method in METHODS}


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_documented_and_every_documented_v2_path_is_a_route(
    document: dict[str, Any],
) -> None:
    routes = {(template, method) for template, methods, _allow in ROUTE_TABLE
              for method in methods}
    documented = _operations(document)
    assert routes - documented == set()
    assert {op for op in documented if op[0].startswith("/v2/")} == routes
    # the rest is what the app answers before routing, and nothing else
    assert documented - routes == _operations({"paths": unversioned_paths()})


def test_unversioned_paths_answer_as_documented(client: Client) -> None:
    for path, item in unversioned_paths().items():
        for method, operation in item.items():
            resp = client.request(method.upper(), path)
            assert str(resp.status_int) in operation["responses"], (method, path)


def test_a_route_without_a_description_fails_the_build() -> None:
    extra = (("/v2/images/{image_id}/brew", {"POST": ("images", "brew", False)}, "POST"),)
    with pytest.raises(DocumentError, match=r"no OpenAPI description for handler images\.brew"):
        v2_paths(ROUTE_TABLE + extra)


def test_the_service_still_starts_with_an_undescribed_route(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # drift fails the tests and gen_docs, never the service's start: it lists the route
    extra = (("/v2/images/{image_id}/brew", {"POST": ("images", "brew", False)}, "POST"),)
    paths = v2_paths(ROUTE_TABLE + extra, strict=False)
    assert paths["/v2/images/{image_id}/brew"]["post"]["summary"] == "Not described yet"
    assert "no OpenAPI description for handler images.brew" in caplog.text


def test_a_description_without_a_route_fails_the_build() -> None:
    table = tuple(r for r in ROUTE_TABLE if r[0] != "/v2/info/usage")
    with pytest.raises(DocumentError, match=r"without a route.*get_usage"):
        v2_paths(table)


def test_every_description_is_used(document: dict[str, Any]) -> None:
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {f"{r}.{a}" for r, a in OPERATIONS} <= ids


def test_shadowed_route_is_documented_as_the_405_it_answers(
    document: dict[str, Any], client: Client,
) -> None:
    for path in ("/v2/cache/clean", "/v2/cache/prune"):
        operation = document["paths"][path]["post"]
        assert set(operation["responses"]) == {"405"}
        assert "/v2/cache/{image_id} matches first" in operation["description"]
        assert client.post(path, {}).status_int == 405


def test_every_v2_operation_documents_the_common_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for operation in item.values():
            if path.startswith("/v2/") and "405" not in operation["responses"]:
                assert {"400", "401", "403", "404"} <= set(operation["responses"]), path


def test_schemas_are_the_served_ones(document: dict[str, Any], client: Client) -> None:
    image = client.get("/v2/schemas/image").json
    assert document["components"]["schemas"]["Image"] == image
    namespace = client.get("/v2/schemas/metadefs/namespace").json
    lifted = document["components"]["schemas"]["MetadefNamespace"]
    assert lifted["properties"].keys() == namespace["properties"].keys()
    # draft-4 local references were rewritten to resolve inside the OpenAPI document
    text = json.dumps(document)
    assert "#/definitions/" not in text
    for target in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert target in document["components"]["schemas"], target


def test_served_document_is_the_generated_one(client: Client, document: dict[str, Any]) -> None:
    resp = client.get("/v2/openapi.json")
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    assert resp.json == json.loads(encode(document))
    # version negotiation applies as for every /v2 resource
    assert client.get("/v2.17/openapi.json").json == resp.json


def test_served_document_needs_a_confirmed_identity_like_the_schemas(client: Client) -> None:
    # It embeds the deployment's schemas (disk formats...): served like /v2/schemas/*, i.e.
    # behind authentication (version discovery is what clients need before they have a token).
    for path in ("/v2/openapi.json", "/v2/schemas/image"):
        assert client.get(path, as_={"X-Identity-Status": "Invalid"}).status_int == 401


def test_openapi_route_allows_only_get(client: Client) -> None:
    resp = client.post("/v2/openapi.json", {})
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET"
    assert client.get("/v2/openapi.json", body=b"{}", content_type="application/json",
                      as_=ADMIN).status_int == 400


def test_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == encode(document), "run `python tools/gen_docs.py` and commit"


def test_document_follows_the_configured_formats() -> None:
    settings = DomainSettings(disk_formats=("raw", "qcow2"))
    doc = build_document(schema_documents(settings))
    disk = doc["components"]["schemas"]["Image"]["properties"]["disk_format"]
    assert disk["enum"] == [None, "raw", "qcow2"]
