"""v1 without v1's historic holes: no status or checksum forging, no copy-from/location reads
the v2 rules would refuse (file://, SSRF), and no view of another project's private image.
Also: members, shared-images, and that v1 goes through the same domain stack (policy,
quotas, notifications)."""

from __future__ import annotations

import hashlib

import pytest

from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import RecordingNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.app import make_app
from tests.wsgi.conftest import ADMIN, ALICE, BOB, Client, identity
from tests.wsgi.v1_support import OCTET, V1_ON, meta_headers, new_image, v1_client, v1_create

CAROL = identity("carol-project", user="carol")


@pytest.fixture
def c() -> Client:
    return v1_client()


def _names(client: Client, as_: dict[str, str]) -> set[str]:
    return {i["name"] for i in client.get("/v1/images/detail", as_=as_).json["images"]}


# -- status, checksum and size forging -------------------------------------------------------

def test_status_cannot_be_forged_on_create(c: Client) -> None:
    resp = v1_create(c, status="active")
    assert resp.status_int == 403 and "Attribute 'status' is read-only." in resp.text
    resp = v1_create(c, b"data", status="active")
    assert resp.status_int == 403
    assert c.get("/v1/images").json == {"images": []}


@pytest.mark.parametrize("field", ["checksum", "size"])
def test_checksum_and_size_without_data_are_refused(c: Client, field: str) -> None:
    value = "0" * 32 if field == "checksum" else "0"  # v1 made a size-0 image active
    resp = v1_create(c, **{field: value})
    assert resp.status_int == 403 and f"Attribute '{field}' is read-only." in resp.text
    image_id = new_image(c, None)
    resp = c.put(f"/v1/images/{image_id}", headers=meta_headers(**{field: value}))
    assert resp.status_int == 403
    assert c.request("HEAD", f"/v1/images/{image_id}").headers["x-image-meta-status"] == \
        "queued"


def test_status_cannot_be_forged_on_update(c: Client) -> None:
    image_id = new_image(c, None)
    resp = c.put(f"/v1/images/{image_id}", headers=meta_headers(status="active"))
    assert resp.status_int == 403 and "Forbidden to modify 'status' of image." in resp.text
    active = new_image(c)
    resp = c.put(f"/v1/images/{active}", headers=meta_headers(status="deactivated"))
    assert resp.status_int == 403
    resp = c.put(f"/v1/images/{active}", headers=meta_headers(checksum="1" * 32))
    assert resp.status_int == 403 and "Forbidden to modify 'checksum' of active image." in \
        resp.text
    for header in ("created_at", "deleted", "virtual_size"):
        resp = c.put(f"/v1/images/{active}", headers=meta_headers(**{header: "1"}))
        assert resp.status_int == 403, header


# -- location and copy-from -------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "filesystem:///etc/passwd", "http://169.254.169.254/latest/meta-data",
    "swift+config://ref/c/o",
])
def test_location_refused_for_a_normal_user(c: Client, url: str) -> None:
    resp = v1_create(c, location=url, disk_format="raw", container_format="bare")
    assert resp.status_int == 400, resp.text
    assert f"External sources are not supported: '{url}'" in resp.text
    assert c.get("/v1/images").json == {"images": []}  # no image left behind
    image_id = new_image(c, None, disk_format="raw", container_format="bare")
    resp = c.put(f"/v1/images/{image_id}", headers=meta_headers(location=url))
    assert resp.status_int == 400
    head = c.request("HEAD", f"/v1/images/{image_id}").headers
    assert head["x-image-meta-status"] == "queued" and "x-image-meta-location" not in head


def test_location_refused_even_for_admin_when_no_store_owns_it(c: Client) -> None:
    resp = v1_create(c, as_=ADMIN, location="file:///etc/passwd", disk_format="raw",
                     container_format="bare")
    assert resp.status_int == 400, resp.text


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:1/x",
                                 "http://169.254.169.254/latest/meta-data"])
def test_copy_from_refused_without_web_download(c: Client, url: str) -> None:
    headers = {**meta_headers(name="cf", disk_format="raw", container_format="bare"),
               "x-glance-api-copy-from": url}
    resp = c.request("POST", "/v1/images", headers=headers)
    assert resp.status_int == 400, resp.text
    assert f"External sources are not supported: '{url}'" in resp.text
    assert c.get("/v1/images").json == {"images": []}


def test_copy_from_needs_web_download_enabled() -> None:
    client = v1_client(DomainSettings(enabled_import_methods=("glance-direct",)))
    client.app.api = client.app.api  # the API advertises what the domain enables
    headers = {**meta_headers(disk_format="raw", container_format="bare"),
               "x-glance-api-copy-from": "http://example.com/i.raw"}
    resp = client.request("POST", "/v1/images", headers=headers)
    assert resp.status_int == 400
    assert "External sources are not supported: 'http://example.com/i.raw'" in resp.text


def test_several_sources_refused(c: Client) -> None:
    headers = {**meta_headers(disk_format="raw", container_format="bare",
                              location="http://a/b"), "x-glance-api-copy-from": "http://a/c"}
    resp = c.request("POST", "/v1/images", headers=headers)
    assert resp.status_int == 400 and "It's invalid to provide multiple image sources." in \
        resp.text


# -- isolation ---------------------------------------------------------------------------------

def test_another_projects_private_image_is_invisible(c: Client) -> None:
    secret = new_image(c, b"secret", name="alice-private")
    assert _names(c, BOB) == set()
    assert c.get("/v1/images", as_=BOB).json == {"images": []}
    assert c.get("/v1/images/detail?name=alice-private", as_=BOB).json == {"images": []}
    assert c.get(f"/v1/images?marker={secret}", as_=BOB).status_int == 400
    for method in ("HEAD", "GET", "DELETE"):
        resp = c.request(method, f"/v1/images/{secret}", as_=BOB)
        assert resp.status_int == 404, method
        assert b"secret" not in resp.body
    resp = c.put(f"/v1/images/{secret}", headers=meta_headers(name="mine"), as_=BOB)
    assert resp.status_int == 404
    assert c.get(f"/v1/images/{secret}/members", as_=BOB).status_int == 404
    assert c.put(f"/v1/images/{secret}/members/bob-project", as_=BOB).status_int == 404
    assert c.get("/v1/shared-images/alice-project", as_=BOB).json == {"shared_images": []}
    assert c.get("/v1/shared-images/bob-project", as_=BOB).json == {"shared_images": []}
    assert c.get(f"/v1/images/{secret}").body == b"secret"  # untouched for its owner


def test_public_images_are_listed_for_everyone_and_publicize_is_admin_only(c: Client) -> None:
    resp = v1_create(c, is_public="true")
    assert resp.status_int == 403  # publicize_image: admin only (v2's default policy)
    public = new_image(c, as_=ADMIN, name="pub", is_public="true")
    assert c.request("HEAD", f"/v1/images/{public}", as_=BOB).headers[
        "x-image-meta-is_public"] == "True"
    assert _names(c, BOB) == {"pub"}
    assert c.get(f"/v1/images/{public}", as_=BOB).body == b"some data"
    assert c.delete(f"/v1/images/{public}", as_=BOB).status_int == 403
    assert c.put(f"/v1/images/{public}", headers=meta_headers(name="x"),
                 as_=BOB).status_int == 403
    resp = c.put(f"/v1/images/{public}", headers=meta_headers(is_public="false"), as_=ADMIN)
    assert resp.json["image"]["is_public"] is False
    assert c.get("/v2/images/" + public, as_=ADMIN).json["visibility"] == "shared"
    assert _names(c, BOB) == set()


# -- members and shared images ---------------------------------------------------------------

def test_members_routes(c: Client) -> None:
    image_id = new_image(c, name="shared-one")
    assert c.get(f"/v1/images/{image_id}/members").json == {"members": []}
    resp = c.put(f"/v1/images/{image_id}/members/bob-project")
    assert resp.status_int == 204
    assert c.put(f"/v1/images/{image_id}/members/bob-project").status_int == 204  # again
    assert c.get(f"/v1/images/{image_id}/members").json == {
        "members": [{"member_id": "bob-project", "can_share": False}]}
    # the member sees it (v1 shows pending shares), a third project does not
    assert _names(c, BOB) == {"shared-one"}
    assert c.request("HEAD", f"/v1/images/{image_id}", as_=BOB).status_int == 200
    assert _names(c, CAROL) == set()
    assert c.get("/v1/shared-images/bob-project", as_=BOB).json == {
        "shared_images": [{"image_id": image_id, "can_share": False}]}
    assert c.get("/v1/shared-images/bob-project").json["shared_images"][0]["image_id"] == \
        image_id
    assert c.get("/v1/shared-images/bob-project", as_=CAROL).json == {"shared_images": []}
    # a member may not manage the members
    assert c.put(f"/v1/images/{image_id}/members/carol-project",
                 as_=BOB).status_int in (403, 404)
    # replace all
    resp = c.put(f"/v1/images/{image_id}/members",
                 json_body={"memberships": [{"member_id": "carol-project"}]})
    assert resp.status_int == 204, resp.text
    assert c.get(f"/v1/images/{image_id}/members").json == {
        "members": [{"member_id": "carol-project", "can_share": False}]}
    assert _names(c, BOB) == set() and _names(c, CAROL) == {"shared-one"}
    resp = c.delete(f"/v1/images/{image_id}/members/carol-project")
    assert resp.status_int == 204
    assert c.delete(f"/v1/images/{image_id}/members/carol-project").status_int == 404
    assert _names(c, CAROL) == set()
    bad = c.put(f"/v1/images/{image_id}/members", json_body={"members": []})
    assert bad.status_int == 400 and "Invalid membership association" in bad.text
    nope = c.get(f"/v1/images/{image_id}/members/bob-project")
    assert nope.status_int == 405 and nope.headers["Allow"] == "PUT, DELETE"


def test_member_quota_applies() -> None:
    client = v1_client(DomainSettings(image_member_quota=1))
    image_id = new_image(client)
    assert client.put(f"/v1/images/{image_id}/members/p1").status_int == 204
    assert client.put(f"/v1/images/{image_id}/members/p2").status_int == 413


# -- the same domain stack -------------------------------------------------------------------

def test_notifications_and_property_quota_go_through_the_domain() -> None:
    notifier = RecordingNotifier()
    settings = DomainSettings(image_property_quota=2)
    gateway = Gateway(repository=MemoryImageRepository(),
                      stores=MemoryStoreRegistry(("fast",)), policy=DefaultPolicy(),
                      notifier=notifier, settings=settings)
    client = Client(make_app(gateway, settings, api_settings=V1_ON), ALICE)
    image_id = new_image(client, b"data")
    events = notifier.event_types()
    assert "image.create" in events and "image.upload" in events
    resp = v1_create(client, property_a="1", property_b="2", property_c="3")
    assert resp.status_int == 413, resp.text
    assert client.delete(f"/v1/images/{image_id}").status_int == 200
    assert "image.delete" in notifier.event_types()


def test_data_is_hashed_like_v2(c: Client) -> None:
    image_id = new_image(c, b"hash me")
    v2 = c.get(f"/v2/images/{image_id}").json
    assert v2["checksum"] == hashlib.md5(b"hash me").hexdigest()
    assert v2["os_hash_value"] == hashlib.sha512(b"hash me").hexdigest()
    assert c.get(f"/v2/images/{image_id}/file").body == b"hash me"
    assert c.put(f"/v1/images/{image_id}", body=b"x", content_type=OCTET).status_int == 409
