"""v1 in the real application built from a glance-api.conf (``enable_v1_api = true``): SQLite,
a file store, oslo.policy and property protections, as a deployment runs it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from glance_domain_adapters import bootstrap
from tests.wsgi.conftest import Client, identity
from tests.wsgi.v1_support import meta_headers, new_image, v1_create

PROTECTIONS = """
[^x_admin_.*]
create = admin
read = admin
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""
ADMIN = identity("p1", "admin,member,reader", "admin-user")
MEMBER = identity("p1", "member,reader", "member-user")
SERVICE = identity("p1", "member,reader,service", "service-user")
OTHER = identity("p2", "member,reader", "other-user")


def _app(folder: Path, extra: str = "") -> Callable[..., Any]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "protections.conf").write_text(PROTECTIONS)
    conf = folder / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\ndata_dir = {folder / 'data'}\nenabled_backends = fs:file\n"
        f"property_protection_file = {folder / 'protections.conf'}\n{extra}"
        "[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {folder / 'images'}\n")
    return bootstrap.build_app(bootstrap.load_config(config_files=[str(conf)]))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    return _app(tmp_path_factory.mktemp("v1"), "enable_v1_api = true\n")


def test_option_off_in_config(tmp_path: Path) -> None:
    client = Client(_app(tmp_path), MEMBER)
    assert client.get("/v1/images").status_int == 300
    assert not [v for v in client.get("/versions").json["versions"] if v["id"][:2] == "v1"]


def test_round_trip_through_sql_and_file_store(app: Callable[..., Any]) -> None:
    client = Client(app, MEMBER)
    data = b"\x00\x01disk" * 5000
    image_id = new_image(client, data, name="real", property_distro="debian")
    got = client.get(f"/v1/images/{image_id}")
    assert got.body == data
    assert got.headers["x-image-meta-checksum"] == hashlib.md5(data).hexdigest()
    assert client.get("/v1/images?name=real").json["images"][0]["id"] == image_id
    assert client.get(f"/v1/images/{image_id}", as_=OTHER).status_int == 404


def test_property_protections(app: Callable[..., Any]) -> None:
    client = Client(app, MEMBER)
    resp = v1_create(client, property_x_admin_flag="1")
    assert resp.status_int == 403, resp.text
    image_id = new_image(client, as_=ADMIN, name="protected-props", property_x_admin_flag="1",
                         property_plain="p")
    member_view = client.request("HEAD", f"/v1/images/{image_id}").headers
    assert "x-image-meta-property-x_admin_flag" not in member_view
    assert member_view["x-image-meta-property-plain"] == "p"
    admin_view = client.request("HEAD", f"/v1/images/{image_id}", as_=ADMIN).headers
    assert admin_view["x-image-meta-property-x_admin_flag"] == "1"
    detail = next(i for i in client.get("/v1/images/detail").json["images"]
              if i["id"] == image_id)
    assert detail["properties"] == {"plain": "p"}


@pytest.mark.parametrize("who", [MEMBER, ADMIN, SERVICE])
def test_file_location_never_reads_host_files(app: Callable[..., Any], who: dict[str, str],
                                              tmp_path: Path) -> None:
    client = Client(app, who)
    target = tmp_path / "secret.txt"
    target.write_bytes(b"host secret")
    for url in ("file:///etc/passwd", f"file://{target}"):
        resp = v1_create(client, location=url, name="loc", disk_format="raw",
                         container_format="bare")
        assert resp.status_int == 400, (who, url, resp.text)
        assert "External sources are not supported" in resp.text
    names = {i["name"] for i in client.get("/v1/images/detail").json["images"]}
    assert "loc" not in names


def test_status_forging_refused(app: Callable[..., Any]) -> None:
    client = Client(app, ADMIN)
    resp = v1_create(client, status="active", name="forged")
    assert resp.status_int == 403
    image_id = new_image(client, None, name="q")
    resp = client.put(f"/v1/images/{image_id}", headers=meta_headers(status="active"))
    assert resp.status_int == 403
    assert client.request("HEAD", f"/v1/images/{image_id}").headers[
        "x-image-meta-status"] == "queued"
