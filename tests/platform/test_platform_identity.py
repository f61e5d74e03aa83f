"""Identity without keystone: trusted headers, else a local admin of default_project_id."""

from __future__ import annotations

from typing import Any

import pytest
import webob

from glance_domain_adapters import bootstrap


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("identity")
    conf_file = tmp / "glance-api.conf"
    conf_file.write_text(
        f"[DEFAULT]\ndata_dir = {tmp / 'data'}\ndefault_project_id = local\n"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp / 'images'}\n"
    )
    return bootstrap.build_app(bootstrap.load_config(config_files=[str(conf_file)]))


def _create(app: Any, headers: dict[str, str], **extra: Any) -> webob.Response:
    req = webob.Request.blank("/v2/images", method="POST", headers=headers)
    req.json_body = {"name": "i", "disk_format": "raw", "container_format": "bare", **extra}
    req.content_type = "application/json"
    return req.get_response(app)


def test_no_identity_is_local_admin_of_default_project(app: Any) -> None:
    resp = _create(app, {}, visibility="public")  # publicize_image: admin only
    assert resp.status_int == 201, resp.text
    assert resp.json["owner"] == "local"


def test_identity_headers_are_used(app: Any) -> None:
    member = {"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member,reader",
              "X-Identity-Status": "Confirmed"}
    created = _create(app, member)
    assert created.status_int == 201, created.text
    assert created.json["owner"] == "p1"
    assert _create(app, member, visibility="public").status_int == 403
    reader = {**member, "X-Roles": "reader"}
    assert _create(app, reader).status_int == 403
    listing = webob.Request.blank("/v2/images", headers=reader).get_response(app)
    assert listing.status_int == 200
    assert created.json["id"] in [i["id"] for i in listing.json["images"]]


def test_admin_role_is_admin_by_policy(app: Any) -> None:
    admin = {"X-Project-Id": "p9", "X-Roles": "admin", "X-Identity-Status": "Confirmed"}
    assert _create(app, admin, visibility="public").status_int == 201
