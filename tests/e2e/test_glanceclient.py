"""python-glanceclient (the library) against the server: the whole image life cycle."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from glanceclient import exc

pytestmark = pytest.mark.e2e

PAYLOAD = b"glance-domain e2e payload\n" * 4096  # ~104 KiB


def _ids(images: Any) -> list[str]:
    return [img["id"] for img in images]


@pytest.fixture
def alice(glance_client: Callable[[str], Any]) -> Any:
    return glance_client("alice")


@pytest.fixture
def bob(glance_client: Callable[[str], Any]) -> Any:
    return glance_client("bob")


def test_create_upload_download_verify(alice: Any, run_id: str) -> None:
    image = alice.images.create(
        name=f"gc-life-{run_id}", disk_format="raw", container_format="bare", min_ram=64,
        os_distro="debian",
    )
    assert image["status"] == "queued"
    assert image["min_ram"] == 64
    assert image["os_distro"] == "debian"
    alice.images.upload(image["id"], io.BytesIO(PAYLOAD), image_size=len(PAYLOAD))
    shown = alice.images.get(image["id"])
    assert shown["status"] == "active"
    assert shown["size"] == len(PAYLOAD)
    assert shown["checksum"] == hashlib.md5(PAYLOAD).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(PAYLOAD).hexdigest()
    # glanceclient verifies the checksum / multihash while reading.
    body = b"".join(alice.images.data(image["id"]))
    assert body == PAYLOAD
    alice.images.delete(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        alice.images.get(image["id"])


def test_list_filters_sort_and_pagination(alice: Any, run_id: str) -> None:
    tag = f"gc-list-{run_id}"
    made = []
    for i, (fmt, ram) in enumerate([("raw", 0), ("qcow2", 256), ("raw", 512), ("iso", 128)]):
        made.append(alice.images.create(
            name=f"gc-list-{i}-{run_id}", disk_format=fmt, container_format="bare",
            min_ram=ram, tags=[tag],
        ))
    try:
        listed = list(alice.images.list(filters={"tag": [tag]}))
        assert sorted(_ids(listed)) == sorted(_ids(made))
        raw = list(alice.images.list(filters={"tag": [tag], "disk_format": "raw"}))
        assert sorted(_ids(raw)) == sorted([made[0]["id"], made[2]["id"]])
        by_name = list(alice.images.list(filters={"tag": [tag]}, sort_key="name", sort_dir="asc"))
        assert [i["name"] for i in by_name] == sorted(i["name"] for i in made)
        by_fmt = list(alice.images.list(filters={"tag": [tag]}, sort="disk_format:asc,name:desc"))
        assert [i["name"] for i in by_fmt] == [made[i]["name"] for i in (3, 1, 2, 0)]
        with pytest.raises(exc.HTTPBadRequest):
            list(alice.images.list(filters={"tag": [tag]}, sort="min_ram:desc"))
        # page_size 1 forces the client to follow "next" links through every page.
        paged = list(alice.images.list(filters={"tag": [tag]}, page_size=1))
        assert sorted(_ids(paged)) == sorted(_ids(made))
        limited = list(alice.images.list(filters={"tag": [tag]}, page_size=1, limit=2))
        assert len(limited) == 2
    finally:
        for image in made:
            alice.images.delete(image["id"])


def test_update_properties_and_tags(alice: Any, run_id: str) -> None:
    image = alice.images.create(name=f"gc-upd-{run_id}", disk_format="raw",
                                container_format="bare", color="red")
    try:
        updated = alice.images.update(image["id"], name=f"gc-upd2-{run_id}", shape="round",
                                      remove_props=["color"])
        assert updated["name"] == f"gc-upd2-{run_id}"
        assert updated["shape"] == "round"
        assert "color" not in updated
        alice.image_tags.update(image["id"], "blue")
        alice.image_tags.update(image["id"], "green")
        alice.image_tags.delete(image["id"], "blue")
        assert alice.images.get(image["id"])["tags"] == ["green"]
        with pytest.raises(exc.HTTPNotFound):
            alice.image_tags.delete(image["id"], "blue")
        with pytest.raises(exc.HTTPForbidden):
            alice.images.update(image["id"], os_glance_secret="x")
    finally:
        alice.images.delete(image["id"])


def test_share_with_another_project_and_accept(
    alice: Any, bob: Any, identities: dict[str, Any], run_id: str
) -> None:
    image = alice.images.create(name=f"gc-share-{run_id}", disk_format="raw",
                                container_format="bare", visibility="shared")
    alice.images.upload(image["id"], io.BytesIO(b"shared bytes"))
    bob_project = identities["bob"].project
    try:
        member = alice.image_members.create(image["id"], bob_project)
        assert member["status"] == "pending"
        assert member["member_id"] == bob_project
        # Pending: bob can fetch it by id but it is not in his default list.
        assert bob.images.get(image["id"])["id"] == image["id"]
        assert image["id"] not in _ids(bob.images.list())
        assert image["id"] in _ids(bob.images.list(filters={"member_status": "pending"}))
        bob.image_members.update(image["id"], bob_project, "accepted")
        assert image["id"] in _ids(bob.images.list())
        assert b"".join(bob.images.data(image["id"])) == b"shared bytes"
        members = list(alice.image_members.list(image["id"]))
        assert [(m["member_id"], m["status"]) for m in members] == [(bob_project, "accepted")]
        # Only the member may change its status; only the owner may remove it.
        with pytest.raises(exc.HTTPForbidden):
            alice.image_members.update(image["id"], bob_project, "rejected")
        alice.image_members.delete(image["id"], bob_project)
        with pytest.raises(exc.HTTPNotFound):
            bob.images.get(image["id"])
    finally:
        alice.images.delete(image["id"])


def test_deactivate_and_reactivate(glance_client: Callable[[str], Any], alice: Any,
                                   run_id: str) -> None:
    admin = glance_client("admin")
    image = alice.images.create(name=f"gc-deact-{run_id}", disk_format="raw",
                                container_format="bare")
    alice.images.upload(image["id"], io.BytesIO(b"some data"))
    try:
        admin.images.deactivate(image["id"])
        assert alice.images.get(image["id"])["status"] == "deactivated"
        with pytest.raises(exc.HTTPForbidden):
            b"".join(alice.images.data(image["id"]))
        admin.images.reactivate(image["id"])
        assert alice.images.get(image["id"])["status"] == "active"
        assert b"".join(alice.images.data(image["id"])) == b"some data"
    finally:
        alice.images.delete(image["id"])


def test_private_image_of_another_project_is_not_found(alice: Any, bob: Any,
                                                       run_id: str) -> None:
    image = alice.images.create(name=f"gc-priv-{run_id}", disk_format="raw",
                                container_format="bare")
    try:
        with pytest.raises(exc.HTTPNotFound):
            bob.images.get(image["id"])
        with pytest.raises(exc.HTTPNotFound):
            bob.images.update(image["id"], name="stolen")
        with pytest.raises(exc.HTTPNotFound):
            bob.images.delete(image["id"])
        assert image["id"] not in _ids(bob.images.list())
    finally:
        alice.images.delete(image["id"])


def test_reader_cannot_write(glance_client: Callable[[str], Any], alice: Any,
                             run_id: str) -> None:
    reader = glance_client("reader")
    image = alice.images.create(name=f"gc-read-{run_id}", disk_format="raw",
                                container_format="bare")
    try:
        assert reader.images.get(image["id"])["id"] == image["id"]
        with pytest.raises(exc.HTTPForbidden):
            reader.images.create(name="nope")
        with pytest.raises(exc.HTTPForbidden):
            reader.images.update(image["id"], name="nope")
        with pytest.raises(exc.HTTPForbidden):
            reader.image_tags.update(image["id"], "nope")
        with pytest.raises(exc.HTTPForbidden):
            reader.images.delete(image["id"])
    finally:
        alice.images.delete(image["id"])


def test_protected_image_cannot_be_deleted(alice: Any, run_id: str) -> None:
    image = alice.images.create(name=f"gc-prot-{run_id}", disk_format="raw",
                                container_format="bare", protected=True)
    with pytest.raises(exc.HTTPForbidden):
        alice.images.delete(image["id"])
    assert alice.images.get(image["id"])["status"] == "queued"
    alice.images.update(image["id"], protected=False)
    alice.images.delete(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        alice.images.get(image["id"])


def test_upload_over_size_cap_is_rejected(alice: Any, run_id: str) -> None:
    image = alice.images.create(name=f"gc-big-{run_id}", disk_format="raw",
                                container_format="bare")
    try:
        with pytest.raises(exc.HTTPOverLimit):
            alice.images.upload(image["id"], io.BytesIO(b"\0" * (2 * 1024 * 1024 + 1)))
        assert alice.images.get(image["id"])["status"] == "queued"
    finally:
        alice.images.delete(image["id"])


def test_interoperable_import_glance_direct(alice: Any, run_id: str) -> None:
    """Stage the bytes, then import them with the glance-direct method (asynchronous)."""
    import time

    data = b"imported through the staging area\n" * 100
    image = alice.images.create(name=f"gc-import-{run_id}", disk_format="raw",
                                container_format="bare")
    try:
        alice.images.stage(image["id"], io.BytesIO(data), len(data))
        assert alice.images.get(image["id"])["status"] == "uploading"
        alice.images.image_import(image["id"], method="glance-direct")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = alice.images.get(image["id"])
            if shown["status"] not in ("uploading", "importing"):
                break
            time.sleep(0.2)
        assert shown["status"] == "active"
        assert shown["checksum"] == hashlib.md5(data).hexdigest()
        assert b"".join(alice.images.data(image["id"])) == data
        tasks = alice.images.get_associated_image_tasks(image["id"])["tasks"]
        assert [t["type"] for t in tasks] == ["api_image_import"]
        with pytest.raises(exc.HTTPConflict):
            alice.images.image_import(image["id"], method="glance-direct")
    finally:
        alice.images.delete(image["id"])


def test_tasks_api_with_the_client(glance_client: Callable[[str], Any], alice: Any) -> None:
    """The tasks API through python-glanceclient: admins only; a legacy import task whose URL
    the default import filtering refuses (loopback, not port 80/443) is a 400, recording
    nothing, as with Glance; the list pages through the client."""
    admin = glance_client("admin")
    task_input = {"import_from": "http://127.0.0.1:1/disk.img", "import_from_format": "raw",
                  "image_properties": {"name": "legacy", "disk_format": "raw",
                                       "container_format": "bare"}}
    with pytest.raises(exc.HTTPBadRequest, match="does not pass filtering"):
        admin.tasks.create(type="import", input=task_input)
    with pytest.raises(exc.HTTPForbidden):
        alice.tasks.create(type="import", input=task_input)
    with pytest.raises(exc.HTTPForbidden):
        list(alice.tasks.list())
    other = admin.tasks.create(type="api_image_import", input={})  # accepted, then fails
    assert other["status"] == "pending" and other["type"] == "api_image_import"
    assert other["id"] in {t["id"] for t in admin.tasks.list()}
    assert other["id"] not in {t["id"] for t in admin.tasks.list(filters={"type": "import"})}
    assert admin.tasks.get(other["id"])["id"] == other["id"]
