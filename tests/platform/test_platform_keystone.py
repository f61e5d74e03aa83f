"""keystone flavor: requests pass keystonemiddleware's real auth_token against a real Keystone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import webob

from glance_domain_adapters import bootstrap
from glance_domain_adapters.policy.enforcer import make_policy
from tests.platform.conftest import Keystone


def _conf(tmp_path: Path, keystone: Keystone, extra: str = "") -> Any:
    path = tmp_path / "glance-api.conf"
    path.write_text(
        f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp_path / 'images'}\n"
        "[paste_deploy]\nflavor = keystone\n" + keystone.authtoken_section() + extra
    )
    return bootstrap.load_config(config_files=[str(path)])


@pytest.fixture(scope="module")
def echo_app(tmp_path_factory: pytest.TempPathFactory, keystone: Keystone) -> Any:
    """One auth_token + echo app for the module (auth_token's own setup costs a few requests)."""
    return _echo_app(_conf(tmp_path_factory.mktemp("echo"), keystone))


@pytest.fixture(scope="module")
def tokens(keystone: Keystone) -> dict[str, dict[str, Any]]:
    """Project-scoped tokens of the member, the reader and the admin."""
    return {
        "member": keystone.token(keystone.member, keystone.user_password, keystone.project_name),
        "reader": keystone.token(keystone.reader, keystone.user_password, keystone.project_name),
        "admin": keystone.token("admin", keystone.admin_password, "admin"),
    }


def _echo_app(conf: Any) -> Any:
    """auth_token in front of an app that answers with the context it was given."""
    factory = bootstrap.context_factory(conf, make_policy(conf).is_admin)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ctx = factory(environ)
        body = json.dumps({"user_id": ctx.user_id, "project_id": ctx.project_id,
                           "roles": sorted(ctx.roles), "is_admin": ctx.is_admin}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return bootstrap.wrap_auth(conf, app)


def test_no_token_is_rejected(echo_app: Any) -> None:
    resp = webob.Request.blank("/v2/images").get_response(echo_app)
    assert resp.status_int == 401
    assert "WWW-Authenticate" in resp.headers


def test_invalid_token_is_rejected(echo_app: Any) -> None:
    resp = webob.Request.blank("/v2/images", headers={"X-Auth-Token": "gAAAAbogus"}
                               ).get_response(echo_app)
    assert resp.status_int == 401


def test_spoofed_identity_headers_are_replaced(
    echo_app: Any, keystone: Keystone, tokens: dict[str, Any]
) -> None:
    resp = webob.Request.blank("/v2/images", headers={
        "X-Auth-Token": tokens["reader"]["id"], "X-Roles": "admin",
        "X-Project-Id": "someone-else",
    }).get_response(echo_app)
    assert resp.status_int == 200
    body = resp.json
    assert body["project_id"] == keystone.project_id
    assert body["roles"] == ["reader"]
    assert body["is_admin"] is False


@pytest.mark.parametrize(("who", "roles"), [("member", ["member", "reader"]),
                                            ("reader", ["reader"])])
def test_valid_token_gives_project_and_roles(
    echo_app: Any, keystone: Keystone, tokens: dict[str, Any], who: str, roles: list[str]
) -> None:
    token = tokens[who]
    resp = webob.Request.blank("/v2/images", headers={"X-Auth-Token": token["id"]}
                               ).get_response(echo_app)
    assert resp.status_int == 200, resp.text
    body = resp.json
    assert body["project_id"] == keystone.project_id
    assert body["user_id"] == token["body"]["user"]["id"]
    assert body["roles"] == roles
    assert body["is_admin"] is False


def test_admin_token_is_admin(echo_app: Any, tokens: dict[str, Any]) -> None:
    resp = webob.Request.blank("/v2/images", headers={"X-Auth-Token": tokens["admin"]["id"]}
                               ).get_response(echo_app)
    assert resp.json["is_admin"] is True
    assert {"admin", "member", "reader"} <= set(resp.json["roles"])


def test_full_app_reader_cannot_write_member_can(
    tmp_path: Path, keystone: Keystone, tokens: dict[str, Any]
) -> None:
    app = bootstrap.build_app(_conf(tmp_path, keystone))
    assert webob.Request.blank("/v2/images").get_response(app).status_int == 401
    reader, member = tokens["reader"], tokens["member"]

    def call(token: str, method: str, path: str, body: Any = None) -> webob.Response:
        req = webob.Request.blank(path, method=method, headers={"X-Auth-Token": token})
        if body is not None:
            req.json_body = body
            req.content_type = "application/json"
        return req.get_response(app)

    listing = call(reader["id"], "GET", "/v2/images")
    assert listing.status_int == 200, listing.text
    denied = call(reader["id"], "POST", "/v2/images",
                  {"name": "nope", "disk_format": "raw", "container_format": "bare"})
    assert denied.status_int == 403, denied.text
    created = call(member["id"], "POST", "/v2/images",
                   {"name": "mine", "disk_format": "raw", "container_format": "bare"})
    assert created.status_int == 201, created.text
    assert created.json["owner"] == keystone.project_id
    image_id = created.json["id"]
    assert call(reader["id"], "GET", f"/v2/images/{image_id}").status_int == 200
    assert call(reader["id"], "DELETE", f"/v2/images/{image_id}").status_int == 403
    assert call(member["id"], "DELETE", f"/v2/images/{image_id}").status_int == 204


def test_version_discovery_needs_no_token(
    tmp_path: Path, keystone: Keystone, tokens: dict[str, Any]
) -> None:
    """As in Glance, version negotiation answers before auth_token: ``/`` and unknown
    versions list the versions (300), ``/versions`` answers 200, with no token, a bad token
    or a good one; everything under a served version still needs a token."""
    app = bootstrap.build_app(_conf(tmp_path, keystone))
    for headers in ({}, {"X-Auth-Token": "gAAAAbogus"},
                    {"X-Auth-Token": tokens["reader"]["id"]}):
        for path, status in (("/", 300), ("/versions", 200), ("/v3/images", 300),
                             ("/images", 300)):
            resp = webob.Request.blank(path, headers=headers).get_response(app)
            assert resp.status_int == status, (path, headers, resp.text)
            ids = [v["id"] for v in resp.json["versions"]]
            assert "v2.17" in ids and "v2.0" in ids
            assert "x-openstack-request-id" not in resp.headers
        versioned = webob.Request.blank(
            "/", headers={**headers, "Accept": "application/vnd.openstack.images-v9"})
        assert versioned.get_response(app).status_int == 300
    for path in ("/v2", "/v2/images", "/v2.17/images", "/v2/schemas/image"):
        resp = webob.Request.blank(path).get_response(app)
        assert resp.status_int == 401, path
    by_accept = webob.Request.blank(
        "/images", headers={"Accept": "application/vnd.openstack.images-v2"})
    assert by_accept.get_response(app).status_int == 401
    ok = webob.Request.blank("/v2/images", headers={"X-Auth-Token": tokens["reader"]["id"]})
    assert ok.get_response(app).status_int == 200
