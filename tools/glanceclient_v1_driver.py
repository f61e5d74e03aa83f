"""Drives python-glanceclient's v1 API against an endpoint (run by record_glanceclient_v1.py
with the Python of a scratch venv holding ``python-glanceclient<3``, the last with v1)."""

import hashlib
import io
import sys

from glanceclient import exc
from glanceclient.v1 import client as v1

ID1 = "11111111-1111-4111-8111-111111111111"
ID2 = "22222222-2222-4222-8222-222222222222"
DATA = bytes(range(256)) * 64


def client(endpoint, project):
    c = v1.Client(endpoint, token="unused")
    c.http_client.session.headers.update({
        "X-Identity-Status": "Confirmed", "X-Project-Id": project,
        "X-User-Id": "user-" + project, "X-Roles": "member,reader"})
    return c


def main(endpoint):
    alice, bob = client(endpoint, "alice-project"), client(endpoint, "bob-project")
    image = alice.images.create(id=ID1, name="gc-v1", disk_format="raw",
                                container_format="bare", data=io.BytesIO(DATA),
                                properties={"distro": "debian"})
    assert image.status == "active", image
    assert image.checksum == hashlib.md5(DATA).hexdigest(), image
    meta = alice.images.get(ID1)
    assert meta.properties == {"distro": "debian"}, meta.properties
    assert meta.is_public is False and meta.size == len(DATA), meta
    body = b"".join(alice.images.data(ID1))  # glanceclient checks the md5
    assert body == DATA
    assert [i.id for i in alice.images.list()] == [ID1]
    assert [i.id for i in alice.images.list(filters={"name": "nope"})] == []
    updated = alice.images.update(ID1, name="renamed", properties={"extra": "1"},
                                  purge_props=False)
    assert updated.name == "renamed", updated
    assert updated.properties == {"distro": "debian", "extra": "1"}, updated.properties
    queued = alice.images.create(id=ID2, name="later", disk_format="raw",
                                 container_format="bare")
    assert queued.status == "queued", queued
    later = alice.images.update(ID2, data=io.BytesIO(b"later data"))
    assert later.status == "active" and later.size == 10, later
    assert [i.id for i in bob.images.list()] == []
    try:
        bob.images.get(ID1)
        raise AssertionError("bob saw alice's private image")
    except exc.HTTPNotFound:
        pass
    alice.image_members.create(ID1, "bob-project")
    members = [m.member_id for m in alice.image_members.list(image=ID1)]
    assert members == ["bob-project"], members
    shared = [m.image_id for m in bob.image_members.list(member="bob-project")]
    assert shared == [ID1], shared
    assert bob.images.get(ID1).name == "renamed"
    alice.image_members.delete(ID1, "bob-project")
    assert [m.member_id for m in alice.image_members.list(image=ID1)] == []
    alice.images.delete(ID2)
    alice.images.delete(ID1)
    try:
        alice.images.get(ID1)
        raise AssertionError("deleted image still there")
    except exc.HTTPNotFound:
        pass
    print("glanceclient v1: all calls answered as expected")


if __name__ == "__main__":
    main(sys.argv[1])
