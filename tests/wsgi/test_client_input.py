"""Client input that used to end in a 500 (or in a wrong 2xx) answers a 4xx and stores nothing
(issue 12, section 4). Through the WSGI app; the framing cases that need a real server's body
parser are in ``tests/platform/test_client_framing.py``."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from glance_domain.settings import DomainSettings
from glance_domain_adapters.formats import OsloFormatInspector
from glance_domain_adapters.wsgi.resource import MAX_JSON_DEPTH
from glance_domain_adapters.wsgi.routes import ROUTE_TABLE

from .conftest import ADMIN, ALICE, BOB, PATCH_TYPE, Client, identity

DEEP = b'{"name": ' + b"[" * 400 + b"]" * 400 + b"}"
DECODE = b"could not be decoded"


def _concrete(template: str, image_id: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: image_id if m.group(1) == "image_id" else "x",
                  template)


def _json_routes() -> list[tuple[str, str]]:
    """Every (method, path template) that takes a body, but the data upload/stage routes."""
    return [(method, path) for path, methods, _allow in ROUTE_TABLE
            for method, (resource, _action, reject) in methods.items()
            if method in ("POST", "PUT", "PATCH") and not reject and resource != "image_data"]


def test_deeply_nested_json_is_refused_on_every_json_route(client: Client) -> None:
    image = client.create(name="x")
    routes = _json_routes()
    assert len(routes) > 15  # images, members, tasks, import, locations, metadefs...
    for method, template in routes:
        path = _concrete(template, image["id"])
        content_type = PATCH_TYPE if method == "PATCH" else "application/json"
        resp = client.request(method, path, body=DEEP, content_type=content_type, as_=ADMIN)
        assert 400 <= resp.status_int < 500, (method, path, resp.status_int, resp.text)
    assert client.get(f"/v2/images/{image['id']}").json["name"] == "x"
    assert len(client.get("/v2/images", as_=ADMIN).json["images"]) == 1


def test_the_depth_limit_is_exact(client: Client) -> None:
    def nested(depth: int) -> bytes:  # depth levels of arrays inside the object
        return b'{"name": "n", "tags": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"

    resp = client.post("/v2/images", body=nested(MAX_JSON_DEPTH + 1),
                       content_type="application/json")
    assert resp.status_int == 400 and b"nests more than" in resp.body
    resp = client.post("/v2/images", body=nested(MAX_JSON_DEPTH),
                       content_type="application/json")
    assert resp.status_int == 400 and b"nests more than" not in resp.body  # the schema's 400


@pytest.mark.parametrize("body", [
    b'{"name": "\\ud800"}', b'{"name": "a", "foo": "\\udfff"}', b'{"name": "a", "\\ud800": "b"}',
    b'{"name": "a", "tags": ["\\ud800"]}',
])
def test_lone_surrogates_in_a_create_are_refused(client: Client, body: bytes) -> None:
    resp = client.post("/v2/images", body=body, content_type="application/json")
    assert resp.status_int == 400 and DECODE in resp.body, resp.text
    assert client.get("/v2/images").json["images"] == []


def test_lone_surrogates_are_refused_wherever_text_enters(client: Client) -> None:
    image = client.create(name="x", visibility="shared")
    path = f"/v2/images/{image['id']}"
    attempts = [
        client.request("PATCH", path, body=b'[{"op": "add", "path": "/foo", "value": "\\ud800"}]',
                       content_type=PATCH_TYPE),
        client.post(path + "/members", body=b'{"member": "\\ud800"}',
                    content_type="application/json"),
        client.put(path + "/tags/%ED%A0%80"),
        client.get("/v2/images?name=%ED%A0%80"),
        client.get("/v2/images?foo=%ED%A0%80"),
        client.get("/v2/images/%ED%A0%80"),
        client.get("/v2/images", as_={**ALICE, "X-Project-Id": "\xed\xa0\x80"}),
        client.get("/v2/images", as_={**ALICE, "X-User-Id": "\xff"}),
    ]
    for resp in attempts:
        assert resp.status_int == 400 and DECODE in resp.body, (resp.request.path, resp.text)
    shown = client.get(path).json
    assert shown["tags"] == [] and "foo" not in shown
    assert client.get(path + "/members").json["members"] == []


def test_valid_unicode_still_passes(client: Client) -> None:
    image = client.create(name="caf\u00e9 \u0394", foo="\u2603")
    assert client.get(f"/v2/images/{image['id']}").json["foo"] == "\u2603"
    assert len(client.get("/v2/images?name=caf%C3%A9%20%CE%94").json["images"]) == 1
    assert len(client.get("/v2/images?foo=%E2%98%83").json["images"]) == 1


@pytest.mark.parametrize("query", [
    "min_ram=abc", "min_disk=1.5", "size=%2B5", "virtual_size=-1",
    "size_min=-1", "size_max=-5", "min_ram_min=-3", "size_min=%201",
])
def test_integer_filters_must_be_non_negative_integers(client: Client, query: str) -> None:
    resp = client.get(f"/v2/images?{query}")
    assert resp.status_int == 400, resp.text
    assert b"non-negative integer" in resp.body or b"non-numeric" in resp.body


def test_integer_filters_still_filter(client: Client) -> None:
    client.create(name="a", min_ram=512)
    assert len(client.get("/v2/images?min_ram=512").json["images"]) == 1
    assert len(client.get("/v2/images?size_min=0&min_ram=0").json["images"]) == 0


def test_an_invisible_marker_answers_as_a_missing_one(client: Client) -> None:
    private = client.create(name="bob's", visibility="private", as_=BOB)
    missing = "0" * 8 + private["id"][8:]
    seen = client.get(f"/v2/images?marker={private['id']}")
    unseen = client.get(f"/v2/images?marker={missing}")
    assert seen.status_int == unseen.status_int == 400
    assert seen.text.replace(private["id"], missing) == unseen.text


def test_a_caller_without_a_project_creates_nothing(client: Client) -> None:
    nobody = identity(None, "member,reader")
    resp = client.post("/v2/images", {"name": "ownerless"}, as_=nobody)
    assert resp.status_int == 403, resp.text
    assert "add_image" in resp.text
    assert client.get("/v2/images", as_=ADMIN).json["images"] == []
    # an admin without a project still may (Glance's admins own what they create)
    assert client.post("/v2/images", {"name": "admin's"},
                       as_=identity(None, "admin,member")).status_int == 201


@pytest.mark.parametrize("header", ["bytes=-", "bytes=--1", "bytes=a-"])
def test_an_invalid_range_is_a_416(client: Client, header: str) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], b"abcdef").status_int == 204
    resp = client.get(f"/v2/images/{image['id']}/file", headers={"Range": header})
    assert resp.status_int == 416 and b"Invalid Range header." in resp.body, resp.text


def test_an_invalid_content_range_is_a_416(client: Client) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], b"abcdef").status_int == 204
    resp = client.get(f"/v2/images/{image['id']}/file",
                      headers={"Content-Range": "bytes -/6"})
    assert resp.status_int == 416, resp.text


def _queued_and_empty(client: Client, image_id: str) -> None:
    shown = client.get(f"/v2/images/{image_id}").json
    assert shown["status"] == "queued" and shown["size"] is None, shown
    stores = client.app.gateway.stores  # type: ignore[attr-defined]
    assert stores.object_count() == 0


@pytest.mark.parametrize(("declared", "body", "text"), [
    ("5", b"abc", b"Size mismatch: expected 5 bytes, got 3 bytes"),
    ("2", b"abcdef", b"Size mismatch: expected 2 bytes, got 6 bytes"),
    ("-1", b"abc", b"Invalid or missing image size in request headers."),
    ("+3", b"abc", b"Invalid or missing image size in request headers."),
    ("3.0", b"abc", b"Invalid or missing image size in request headers."),
    ("abc", b"abc", b"Invalid or missing image size in request headers."),
])
def test_a_declared_size_the_data_does_not_match_is_a_400(
    client: Client, declared: str, body: bytes, text: bytes,
) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    resp = client.upload(image["id"], body, headers={"x-openstack-image-size": declared})
    assert resp.status_int == 400 and text in resp.body, resp.text
    _queued_and_empty(client, image["id"])


def test_a_declared_size_that_matches_is_accepted(client: Client) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    resp = client.upload(image["id"], b"abc", headers={"x-openstack-image-size": "3"})
    assert resp.status_int == 204, resp.text


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate", "gzip", "chunked, identity"])
def test_transfer_codings_the_service_does_not_decode_are_refused(
    client: Client, coding: str,
) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    resp = client.upload(image["id"], b"", headers={"Transfer-Encoding": coding})
    assert resp.status_int == 501 and coding.encode() in resp.body, resp.text
    _queued_and_empty(client, image["id"])


def _qcow2_header(size: int = 1 << 30) -> bytes:
    """A qcow2 v3 header (cluster 64 KiB) naming tables at 64 KiB / 128 KiB, and nothing else."""
    header = (b"QFI\xfb" + struct.pack(">IQIIQIIQQII", 3, 0, 0, 16, size, 0, 16, 3 << 16,
                                       1 << 16, 1, 0))
    return header.ljust(512, b"\0")


def test_a_header_only_qcow2_is_refused(tmp_path: Path) -> None:
    from glance_domain.gateway import Gateway
    from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
    from glance_domain.notifications import NullNotifier
    from glance_domain.policy import DefaultPolicy
    from glance_domain_adapters.wsgi.app import make_app

    settings = DomainSettings()
    gateway = Gateway(repository=MemoryImageRepository(),
                      stores=MemoryStoreRegistry(("default",)), policy=DefaultPolicy(),
                      notifier=NullNotifier(), settings=settings,
                      format_inspector=OsloFormatInspector())
    client = Client(make_app(gateway, settings), ALICE)
    image = client.create(name="q", disk_format="qcow2", container_format="bare")
    resp = client.upload(image["id"], _qcow2_header())
    assert 400 <= resp.status_int < 500 and b"header but not the tables" in resp.body
    _queued_and_empty(client, image["id"])
    # a real (empty) qcow2 image made by qemu-img still passes
    real = tmp_path / "empty.qcow2"
    try:
        subprocess.run(["qemu-img", "create", "-f", "qcow2", str(real), "1G"], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"qemu-img is not available: {exc}")
    assert client.upload(image["id"], real.read_bytes()).status_int == 204
    assert client.get(f"/v2/images/{image['id']}").json["virtual_size"] == 1 << 30
