"""The legacy Image API v1 over raw HTTP: the option, every images route, the header mapping,
data round trips, listing filters and paging, and v1's error answers."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from glance_domain.settings import DomainSettings
from tests.wsgi.conftest import ADMIN, ALICE, Client, build_app
from tests.wsgi.v1_support import OCTET, meta_headers, new_image, v1_client, v1_create


@pytest.fixture
def c() -> Client:
    return v1_client()


def test_v1_is_off_by_default() -> None:
    client = Client(build_app(), ALICE)
    ids = [v["id"] for v in client.get("/versions").json["versions"]]
    assert not [i for i in ids if i.startswith("v1")]
    # as Glance 33 (no v1): an unknown version answers the versions list, never v1 itself
    for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
        resp = client.request(method, "/v1/images")
        assert resp.status_int == 300, method
        assert "x-image-meta-id" not in resp.headers
    assert client.get("/v1/images/detail").status_int == 300
    assert client.get("/v1/shared-images/alice-project").status_int == 300


def test_versions_list_v1_when_on(c: Client) -> None:
    versions = c.get("/versions").json["versions"]
    assert versions[-2:] == [
        {"id": "v1.1", "status": "DEPRECATED",
         "links": [{"rel": "self", "href": "http://localhost/v1/"}]},
        {"id": "v1.0", "status": "DEPRECATED",
         "links": [{"rel": "self", "href": "http://localhost/v1/"}]},
    ]
    assert versions[0]["links"][0]["href"] == "http://localhost/v2/"
    assert c.get("/v2/images").status_int == 200  # v2 untouched
    assert c.get("/v1/nothing").status_int == 404


def test_create_with_data_round_trip(c: Client) -> None:
    data = bytes(range(256)) * 1000
    md5 = hashlib.md5(data).hexdigest()
    resp = v1_create(c, data, name="cirros", property_distro="debian", min_ram=64)
    assert resp.status_int == 201, resp.text
    image = resp.json["image"]
    assert image["status"] == "active" and image["size"] == len(data)
    assert image["checksum"] == md5 and resp.headers["ETag"] == md5
    assert image["is_public"] is False and image["owner"] == "alice-project"
    assert image["properties"] == {"distro": "debian"} and image["min_ram"] == 64
    assert resp.headers["Location"] == f"/v1/images/{image['id']}"

    got = c.get(f"/v1/images/{image['id']}")
    assert got.status_int == 200 and got.body == data
    assert got.content_type == OCTET and got.headers["Content-Length"] == str(len(data))
    assert got.headers["x-image-meta-checksum"] == md5
    assert got.headers["x-image-meta-property-distro"] == "debian"
    assert hashlib.md5(got.body).hexdigest() == got.headers["x-image-meta-checksum"]


def test_head_gives_metadata_headers_only(c: Client) -> None:
    image_id = new_image(c, b"abc", name="n1", property_os_distro="ubuntu", protected="true")
    resp = c.request("HEAD", f"/v1/images/{image_id}")
    assert resp.status_int == 200 and resp.body == b""
    h = resp.headers
    assert h["x-image-meta-id"] == image_id and h["x-image-meta-name"] == "n1"
    assert h["x-image-meta-status"] == "active" and h["x-image-meta-size"] == "3"
    assert h["x-image-meta-is_public"] == "False" and h["x-image-meta-protected"] == "True"
    assert h["x-image-meta-disk_format"] == "raw"
    assert h["x-image-meta-container_format"] == "bare"
    assert h["x-image-meta-checksum"] == hashlib.md5(b"abc").hexdigest()
    assert h["x-image-meta-property-os_distro"] == "ubuntu"
    assert h["x-image-meta-deleted"] == "False" and "x-image-meta-deleted_at" not in h


def test_create_without_data_is_queued_then_put_uploads(c: Client) -> None:
    resp = v1_create(c, name="later", disk_format="qcow2", container_format="bare")
    assert resp.status_int == 201
    image = resp.json["image"]
    assert image["status"] == "queued" and image["size"] is None
    image_id = image["id"]
    assert c.get(f"/v1/images/{image_id}").status_int == 404  # no data yet: "not active"
    resp = c.put(f"/v1/images/{image_id}", body=b"payload", content_type=OCTET)
    assert resp.status_int == 200, resp.text
    assert resp.json["image"]["status"] == "active"
    assert resp.json["image"]["checksum"] == hashlib.md5(b"payload").hexdigest()
    assert c.get(f"/v1/images/{image_id}").body == b"payload"
    again = c.put(f"/v1/images/{image_id}", body=b"more", content_type=OCTET)
    assert again.status_int == 409 and "Cannot upload to an unqueued image" in again.text


def test_upload_needs_formats_and_octet_stream(c: Client) -> None:
    resp = c.request("POST", "/v1/images", headers=meta_headers(name="x"), body=b"d",
                     content_type=OCTET)
    assert resp.status_int == 400 and "Disk format is not specified." in resp.text
    resp = c.request("POST", "/v1/images", headers=meta_headers(name="x", disk_format="raw",
                     container_format="bare"), body=b"d", content_type="text/plain")
    assert resp.status_int == 400
    assert "Content-Type must be application/octet-stream" in resp.text
    assert c.get("/v1/images").json == {"images": []}  # nothing created


def test_supplied_checksum_is_verified(c: Client) -> None:
    data = b"0123456789"
    good = v1_create(c, data, checksum=hashlib.md5(data).hexdigest())
    assert good.status_int == 201
    bad = v1_create(c, data, name="bad", checksum="0" * 32)
    assert bad.status_int == 400
    assert "Supplied checksum (00000000000000000000000000000000) and checksum generated " \
        "from uploaded image" in bad.text
    bad_image = [i for i in c.get("/v1/images/detail").json["images"] if i["name"] == "bad"]
    assert bad_image[0]["status"] == "queued" and bad_image[0]["checksum"] is None


def test_update_metadata_and_purge(c: Client) -> None:
    image_id = new_image(c, b"x", property_a="1", property_b="2")
    resp = c.put(f"/v1/images/{image_id}", headers=meta_headers(name="renamed", property_a="9",
                                                                 property_c="3"))
    assert resp.status_int == 200, resp.text
    image = resp.json["image"]
    assert image["name"] == "renamed"
    assert image["properties"] == {"a": "9", "c": "3"}  # b purged (v1's default)
    resp = c.put(f"/v1/images/{image_id}", headers={
        **meta_headers(property_d="4"), "x-glance-registry-purge-props": "false"})
    assert resp.json["image"]["properties"] == {"a": "9", "c": "3", "d": "4"}
    head = c.request("HEAD", f"/v1/images/{image_id}").headers
    assert head["x-image-meta-name"] == "renamed" and head["x-image-meta-property-d"] == "4"
    # re-sending the current status/size/checksum is no change; changing them is refused
    same = c.put(f"/v1/images/{image_id}", headers={
        **meta_headers(status="active", size=1), "x-glance-registry-purge-props": "false"})
    assert same.status_int == 200


def test_delete_answers_200_then_404(c: Client) -> None:
    image_id = new_image(c)
    resp = c.delete(f"/v1/images/{image_id}")
    assert resp.status_int == 200 and resp.body == b""
    gone = c.request("HEAD", f"/v1/images/{image_id}")
    assert gone.status_int == 404
    missing = c.get(f"/v1/images/{image_id}")
    assert f"Image with identifier {image_id} not found" in missing.text
    assert c.delete(f"/v1/images/{image_id}").status_int == 404
    protected = new_image(c, protected="true")
    assert c.delete(f"/v1/images/{protected}").status_int == 403


def test_deactivated_image_data_is_403(c: Client) -> None:
    image_id = new_image(c)
    admin = Client(c.app, ADMIN)
    assert admin.post(f"/v2/images/{image_id}/actions/deactivate").status_int == 204
    resp = c.get(f"/v1/images/{image_id}")
    assert resp.status_int == 403 and f"Image {image_id} is deactivated" in resp.text


def test_index_and_detail_documents(c: Client) -> None:
    image_id = new_image(c, b"abc", name="one", property_k="v")
    index = c.get("/v1/images").json["images"]
    assert index == [{"id": image_id, "name": "one", "size": 3, "disk_format": "raw",
                      "container_format": "bare",
                      "checksum": hashlib.md5(b"abc").hexdigest()}]
    detail = c.get("/v1/images/detail").json["images"][0]
    assert set(detail) == {"id", "name", "size", "disk_format", "container_format",
                           "checksum", "min_disk", "min_ram", "status", "is_public", "owner",
                           "protected", "virtual_size", "created_at", "updated_at",
                           "deleted_at", "deleted", "properties"}
    assert detail["properties"] == {"k": "v"}
    head = c.request("HEAD", "/v1/images/detail")
    assert head.status_int == 405 and head.headers["Allow"] == "GET"


def test_detail_filters(c: Client) -> None:
    small = new_image(c, b"a", name="small", property_os="linux")
    big = new_image(c, b"a" * 100, name="big", disk_format="qcow2")
    queued = new_image(c, None, name="q")

    def names(query: str) -> set[str]:
        resp = c.get("/v1/images/detail?" + query)
        assert resp.status_int == 200, resp.text
        return {i["name"] for i in resp.json["images"]}

    assert names("") == {"small", "big", "q"}
    assert names("name=big") == {"big"}
    assert names("status=queued") == {"q"}
    assert names("disk_format=qcow2") == {"big"}
    assert names("container_format=bare") == {"small", "big"}
    assert names("size_min=50") == {"big"}
    assert names("size_max=50") == {"small"}
    assert names("property-os=linux") == {"small"}
    assert names("is_public=true") == set()
    assert names("is_public=false") == {"small", "big", "q"}
    assert names("is_public=none") == {"small", "big", "q"}
    assert {i["id"] for i in c.get("/v1/images?name=small").json["images"]} == {small}
    assert big and queued


@pytest.mark.parametrize(("query", "text"), [
    ("size_min=-1", "Bad value passed to filter size_min got -1"),
    ("size_max=x", "Bad value passed to filter size_max got x"),
    ("is_public=maybe", "Bad value passed to filter is_public got maybe"),
    ("limit=x", "limit param must be an integer"),
    ("limit=-1", "limit param must be positive"),
    ("marker=nope", "Invalid marker format"),
    ("sort_key=owner", "Unsupported sort_key. Acceptable values: name, status, "
     "container_format, disk_format, size, id, created_at, updated_at"),
    ("sort_dir=up", "Unsupported sort_dir. Acceptable values: asc, desc"),
])
def test_bad_listing_parameters(c: Client, query: str, text: str) -> None:
    for path in ("/v1/images", "/v1/images/detail"):
        resp = c.get(f"{path}?{query}")
        assert resp.status_int == 400, (path, query)
        assert text in resp.text


def test_paging_and_sorting(c: Client) -> None:
    for name in ("c", "a", "d", "b"):
        new_image(c, None, name=name)
    first = c.get("/v1/images?sort_key=name&sort_dir=asc&limit=2").json["images"]
    assert [i["name"] for i in first] == ["a", "b"]
    rest = c.get(f"/v1/images?sort_key=name&sort_dir=asc&limit=2&marker={first[-1]['id']}")
    assert [i["name"] for i in rest.json["images"]] == ["c", "d"]
    desc = c.get("/v1/images/detail?sort_key=name").json["images"]
    assert [i["name"] for i in desc] == ["d", "c", "b", "a"]
    assert c.get("/v1/images?limit=0").json == {"images": []}
    unknown = c.get(f"/v1/images?marker={uuid.uuid4()}")
    assert unknown.status_int == 400
    assert "Invalid marker. Image could not be found." in unknown.text


def test_unknown_meta_header_and_bad_numbers(c: Client) -> None:
    resp = c.request("POST", "/v1/images", headers={"x-image-meta-colour": "red"})
    assert resp.status_int == 400 and "Bad header: x-image-meta-colour" in resp.text
    resp = c.request("POST", "/v1/images", headers={"x-image-meta-min_ram": "lots"})
    assert resp.status_int == 400 and "Cannot convert image min_ram 'lots'" in resp.text


def test_method_not_allowed(c: Client) -> None:
    resp = c.request("PATCH", "/v1/images")
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET, POST"
    image_id = new_image(c)
    resp = c.request("POST", f"/v1/images/{image_id}")
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET, HEAD, PUT, DELETE"


def test_unicode_property_survives_headers(c: Client) -> None:
    image_id = new_image(c)
    v2 = Client(c.app, ALICE)
    resp = v2.patch(f"/v2/images/{image_id}", [
        {"op": "add", "path": "/motto", "value": "héllo\r\nx-evil: 1"}])
    assert resp.status_int == 200
    head = c.request("HEAD", f"/v1/images/{image_id}")
    assert "x-evil" not in head.headers
    raw = head.headers["x-image-meta-property-motto"]
    assert raw.encode("latin-1").decode("utf-8") == "héllo  x-evil: 1"


def test_size_cap_applies_to_v1_uploads() -> None:
    client = v1_client(DomainSettings(image_size_cap=10))
    resp = v1_create(client, b"x" * 11)
    assert resp.status_int == 413, resp.text


def test_supplied_size_is_verified(c: Client) -> None:
    resp = v1_create(c, b"12345", name="short", size=3)
    assert resp.status_int == 400
    assert "Supplied size (3) and size generated from uploaded image (5) did not match." in \
        resp.text
    assert v1_create(c, b"12345", name="exact", size=5).status_int == 201
    queued = new_image(c, None, name="q", disk_format="raw", container_format="bare")
    resp = c.put(f"/v1/images/{queued}", headers=meta_headers(size=10), body=b"12345",
                 content_type=OCTET)
    assert resp.status_int == 400 and "Supplied size (10)" in resp.text
    assert c.request("HEAD", f"/v1/images/{queued}").headers["x-image-meta-status"] == "queued"


def test_unknown_member_delete_is_404_without_image_text(c: Client) -> None:
    image_id = new_image(c)
    resp = c.delete(f"/v1/images/{image_id}/members/nobody")
    assert resp.status_int == 404
    assert f"Image with identifier {image_id} not found" not in resp.text
    bad = c.put(f"/v1/images/{image_id}/members", json_body={"x": 1})
    assert bad.status_int == 400 and '"member_id": "a project id"' in bad.text
