"""Image data upload/download, tags, members, actions, stores, error table, context factory."""

from __future__ import annotations

import hashlib
import io

import pytest
import webob

from glance_domain import errors as e
from glance_domain.context import RequestContext
from glance_domain_adapters.wsgi.context import (
    RequestIdTooLong,
    Unauthenticated,
    make_context_factory,
)
from glance_domain_adapters.wsgi.errors import status_for

from .conftest import ADMIN, BOB, Client

DATA = bytes(range(256)) * 40  # 10240 bytes


def _active(client: Client, data: bytes = DATA, as_: dict | None = None) -> dict:
    image = client.create(name="d", disk_format="raw", container_format="bare", as_=as_)
    assert client.upload(image["id"], data, as_=as_).status_int == 204
    return image


def test_upload_and_download(client: Client) -> None:
    image = _active(client)
    resp = client.get(f"/v2/images/{image['id']}/file")
    assert resp.status_int == 200 and resp.body == DATA
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-MD5"] == hashlib.md5(DATA).hexdigest()
    assert resp.headers["Content-Length"] == str(len(DATA))


def test_chunked_upload_is_streamed(client: Client) -> None:
    image = client.create(name="c", disk_format="raw", container_format="bare")
    req = webob.Request.blank(f"/v2/images/{image['id']}/file", method="PUT",
                              headers=client.default)
    req.content_type = "application/octet-stream"
    req.headers["Transfer-Encoding"] = "chunked"
    req.environ["wsgi.input"] = io.BytesIO(DATA)
    req.environ.pop("CONTENT_LENGTH", None)
    assert req.get_response(client.app).status_int == 204
    assert client.get(f"/v2/images/{image['id']}").json["size"] == len(DATA)


def test_upload_errors(client: Client) -> None:
    image = client.create(name="u", disk_format="raw", container_format="bare")
    url = f"/v2/images/{image['id']}/file"
    assert client.put(url, body=b"x", content_type="application/json").status_int == 415
    assert client.put(url, body=b"x").status_int == 415
    bad_size = client.put(url, body=b"x", content_type="application/octet-stream",
                          headers={"X-Openstack-Image-Size": "big"})
    assert bad_size.status_int == 400
    store = client.put(url, body=b"x", content_type="application/octet-stream",
                       headers={"X-Image-Meta-Store": "nowhere"})
    assert store.status_int == 400
    assert client.upload(image["id"], b"abc", headers={"X-Image-Meta-Store": "slow"}).status_int \
        == 204
    assert client.get(f"/v2/images/{image['id']}").json["stores"] == "slow"
    assert client.upload(image["id"], b"again").status_int == 409
    assert client.upload("3b1a7d0e-0000-4000-8000-000000000001", b"x").status_int == 404


def test_short_body_restores_queued(client: Client) -> None:
    image = client.create(name="s", disk_format="raw", container_format="bare")
    req = webob.Request.blank(f"/v2/images/{image['id']}/file", method="PUT",
                              headers=client.default)
    req.content_type = "application/octet-stream"
    req.environ["wsgi.input"] = io.BytesIO(b"short")
    req.environ["CONTENT_LENGTH"] = "100"
    assert req.get_response(client.app).status_int == 400
    assert client.get(f"/v2/images/{image['id']}").json["status"] == "queued"


def test_download_without_data_is_204(client: Client) -> None:
    image = client.create(name="q")
    assert client.get(f"/v2/images/{image['id']}/file").status_int == 204


@pytest.mark.parametrize(("header", "status", "expected", "content_range"), [
    ("bytes=0-4", 206, DATA[:5], f"bytes 0-4/{len(DATA)}"),
    ("bytes=10-", 206, DATA[10:], f"bytes 10-{len(DATA) - 1}/{len(DATA)}"),
    ("bytes=-3", 206, DATA[-3:], f"bytes {len(DATA) - 3}-{len(DATA) - 1}/{len(DATA)}"),
    ("bytes=5-99999", 206, DATA[5:], f"bytes 5-{len(DATA) - 1}/{len(DATA)}"),
])
def test_range_download(client: Client, header: str, status: int, expected: bytes,
                        content_range: str) -> None:
    image = _active(client)
    resp = client.get(f"/v2/images/{image['id']}/file", headers={"Range": header})
    assert resp.status_int == status
    assert resp.body == expected
    assert resp.headers["Content-Range"] == content_range
    assert resp.headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize(("header", "status"), [
    ("bytes=99999-", 416), ("bytes=x-y", 416), ("bytes=0-1,3-4", 400),
])
def test_range_errors(client: Client, header: str, status: int) -> None:
    image = _active(client)
    assert client.get(f"/v2/images/{image['id']}/file",
                      headers={"Range": header}).status_int == status


def test_deactivate_reactivate(client: Client) -> None:
    image = _active(client)
    url = f"/v2/images/{image['id']}"
    assert client.post(url + "/actions/deactivate", as_=BOB).status_int == 404
    assert client.post(url + "/actions/deactivate", as_=ADMIN).status_int == 204
    assert client.get(url).json["status"] == "deactivated"
    assert client.get(url + "/file").status_int == 403
    assert client.get(url + "/file", as_=ADMIN).status_int == 200
    assert client.post(url + "/actions/reactivate", as_=ADMIN).status_int == 204
    assert client.get(url).json["status"] == "active"


def test_deactivate_queued_is_403(client: Client) -> None:
    """Glance 33 answers 403 'Not allowed to deactivate image in status queued' (seen live)."""
    queued = client.create(name="q", as_=ADMIN)
    resp = client.post(f"/v2/images/{queued['id']}/actions/deactivate", as_=ADMIN)
    assert resp.status_int == 403


def test_tags(client: Client) -> None:
    image = client.create(name="t")
    url = f"/v2/images/{image['id']}/tags"
    assert client.put(url + "/blue").status_int == 204
    assert client.put(url + "/blue").status_int == 204
    assert client.get(f"/v2/images/{image['id']}").json["tags"] == ["blue"]
    assert client.put(url + "/" + "x" * 256).status_int == 400
    assert client.delete(url + "/blue").status_int == 204
    assert client.delete(url + "/blue").status_int == 404
    assert client.put("/v2/images/3b1a7d0e-0000-4000-8000-000000000001/tags/a").status_int == 404
    assert client.put(url + "/blue", as_=BOB).status_int == 404


def test_members(client: Client) -> None:
    image = client.create(name="m", visibility="shared")
    url = f"/v2/images/{image['id']}/members"
    resp = client.post(url, {"member": "bob-project"})
    assert resp.status_int == 200
    member = resp.json
    assert set(member) == {"member_id", "image_id", "status", "created_at", "updated_at",
                           "schema"}
    assert member["status"] == "pending" and member["schema"] == "/v2/schemas/member"
    assert client.post(url, {"member": "bob-project"}).status_int == 409
    assert client.post(url, {}).status_int == 400
    assert client.post(url, {"member": ""}).status_int == 400
    listing = client.get(url).json
    assert listing["schema"] == "/v2/schemas/members" and len(listing["members"]) == 1
    assert client.get(url + "/bob-project").json["member_id"] == "bob-project"
    assert client.get(url + "/nobody").status_int == 404
    bob_put = client.put(url + "/bob-project", json_body={"status": "accepted"}, as_=BOB)
    assert bob_put.status_int == 200 and bob_put.json["status"] == "accepted"
    assert client.put(url + "/bob-project", json_body={"status": "maybe"},
                      as_=BOB).status_int == 400
    assert client.put(url + "/bob-project", json_body={}, as_=BOB).status_int == 400
    assert client.delete(url + "/bob-project").status_int == 204
    assert client.get(url).json["members"] == []
    private = client.create(name="p", visibility="private")
    assert client.post(f"/v2/images/{private['id']}/members",
                       {"member": "bob-project"}).status_int == 403
    assert client.get(f"/v2/images/{private['id']}/members").status_int == 403


def test_delete_from_store(client: Client) -> None:
    image = _active(client, as_=ADMIN)
    assert client.delete("/v2/stores/nowhere/" + image["id"], as_=ADMIN).status_int == 409
    queued = client.create(name="q", as_=ADMIN)
    assert client.delete(f"/v2/stores/fast/{queued['id']}", as_=ADMIN).status_int == 409
    # Glance refuses to remove the only copy before looking at the store named
    resp = client.delete(f"/v2/stores/slow/{image['id']}", as_=ADMIN)
    assert resp.status_int == 403 and "only store" in resp.text
    resp = client.delete(f"/v2/stores/os_glance_staging_store/{image['id']}", as_=ADMIN)
    assert resp.status_int == 403 and "only store" in resp.text


def test_delete_from_only_store_is_403(client: Client) -> None:
    image = _active(client, as_=ADMIN)
    assert client.delete(f"/v2/stores/fast/{image['id']}", as_=ADMIN).status_int == 403


def test_error_table() -> None:
    assert status_for(e.NotFound("x")) == 404
    assert status_for(e.ReadOnlyAttribute("x")) == 403
    assert status_for(e.InvalidInput("x")) == 400
    assert status_for(e.Duplicate("x")) == 409
    assert status_for(e.SizeLimitExceeded("x")) == 413
    assert status_for(e.RangeNotSatisfiable("x")) == 416
    assert status_for(e.ServiceUnavailable("x")) == 503
    assert status_for(e.InvalidStatusTransition("x")) == 409
    assert status_for(e.InvalidStatusTransition("x"), "image_actions", "deactivate") == 400
    assert status_for(e.Forbidden("x"), "image_members", "show") == 404


def test_context_factory() -> None:
    factory = make_context_factory(default_project="local")
    anon = factory({})
    assert anon.is_admin and anon.project_id == "local" and anon.request_id.startswith("req-")
    ctx = factory({"HTTP_X_IDENTITY_STATUS": "Confirmed", "HTTP_X_USER_ID": "u",
                   "HTTP_X_TENANT_ID": "p", "HTTP_X_ROLES": "Member, Reader",
                   "HTTP_X_SERVICE_ROLES": "service", "HTTP_X_DOMAIN_ID": "d"})
    assert (ctx.user_id, ctx.project_id, ctx.roles) == ("u", "p", ("member", "reader"))
    assert ctx.service_roles == ("service",) and ctx.domain_id == "d" and not ctx.is_admin
    with pytest.raises(Unauthenticated):
        factory({"HTTP_X_IDENTITY_STATUS": "Invalid"})
    with pytest.raises(RequestIdTooLong):
        factory({"HTTP_X_OPENSTACK_REQUEST_ID": "r" * 100})

    def custom(c: RequestContext) -> bool:
        return "boss" in c.roles

    boss = make_context_factory(is_admin=custom)(
        {"HTTP_X_IDENTITY_STATUS": "Confirmed", "HTTP_X_PROJECT_ID": "p", "HTTP_X_ROLES": "boss"})
    assert boss.is_admin
