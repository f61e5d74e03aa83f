"""python-glanceclient against the app served by a real HTTP server (cheroot) on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest

from tests.wsgi.servers import glanceclient_as, serve

from .conftest import build_app

glanceclient = pytest.importorskip("glanceclient")
from glanceclient import exc as gc_exc  # noqa: E402
from glanceclient.v2 import client as gc_client  # noqa: E402


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with serve(build_app()) as url:
        yield url


def _client(endpoint: str, project: str, roles: str = "member,reader") -> gc_client.Client:
    return glanceclient_as(endpoint, project, roles)


def test_full_image_lifecycle_with_glanceclient(endpoint: str) -> None:
    alice = _client(endpoint, "alice")
    bob = _client(endpoint, "bob")
    data = b"\x00glance-domain\xff" * 50000

    image = alice.images.create(name="cirros", disk_format="qcow2", container_format="bare",
                                os_distro="cirros", visibility="shared")
    assert image.status == "queued" and image.owner == "alice"

    alice.images.upload(image.id, io.BytesIO(data), image_size=len(data))
    shown = alice.images.get(image.id)
    assert shown.status == "active" and shown.size == len(data)
    assert shown.checksum == hashlib.md5(data).hexdigest()
    assert shown.os_hash_value == hashlib.sha512(data).hexdigest()

    body = alice.images.data(image.id)
    assert b"".join(body) == data  # glanceclient verifies Content-MD5 while iterating

    other = alice.images.create(name="other", disk_format="raw", container_format="bare")
    names = {i.name for i in alice.images.list(filters={"name": "cirros"})}
    assert names == {"cirros"}
    assert {i.id for i in alice.images.list(filters={"os_distro": "cirros"})} == {image.id}
    paged = list(alice.images.list(page_size=1))
    assert {i.id for i in paged} >= {image.id, other.id}

    updated = alice.images.update(image.id, name="cirros-2", min_ram=128, hw_disk_bus="virtio",
                                  remove_props=["os_distro"])
    assert updated.name == "cirros-2" and updated.min_ram == 128
    assert updated.hw_disk_bus == "virtio" and "os_distro" not in updated

    alice.image_tags.update(image.id, "small")
    assert "small" in alice.images.get(image.id).tags
    alice.image_tags.delete(image.id, "small")
    assert "small" not in alice.images.get(image.id).tags

    member = alice.image_members.create(image.id, "bob")
    assert member.status == "pending"
    assert [m.member_id for m in alice.image_members.list(image.id)] == ["bob"]
    bob.image_members.update(image.id, "bob", "accepted")
    assert bob.images.get(image.id).id == image.id
    alice.image_members.delete(image.id, "bob")
    with pytest.raises(gc_exc.HTTPNotFound):
        bob.images.get(image.id)

    alice.images.delete(image.id)
    alice.images.delete(other.id)
    with pytest.raises(gc_exc.HTTPNotFound):
        alice.images.get(image.id)


def test_glanceclient_sees_errors(endpoint: str) -> None:
    alice = _client(endpoint, "alice")
    with pytest.raises(gc_exc.HTTPNotFound):
        alice.images.get("3b1a7d0e-0000-4000-8000-000000000001")
    image = alice.images.create(name="x", disk_format="raw", container_format="bare")
    alice.images.upload(image.id, io.BytesIO(b"abc"))
    with pytest.raises(gc_exc.HTTPConflict):
        alice.images.upload(image.id, io.BytesIO(b"again"))
    alice.images.update(image.id, protected=True)
    with pytest.raises(gc_exc.HTTPForbidden):
        alice.images.delete(image.id)
    alice.images.update(image.id, protected=False)
    alice.images.delete(image.id)
