"""openstacksdk (``conn.image``) against the server, without keystone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.e2e

DATA = bytes(range(256)) * 512  # 128 KiB


@pytest.fixture
def alice(sdk: Callable[[str], Any]) -> Any:
    return sdk("alice")


@pytest.fixture
def bob(sdk: Callable[[str], Any]) -> Any:
    return sdk("bob")


def test_image_life_cycle(alice: Any, run_id: str, tmp_path: Any) -> None:
    image = alice.image.create_image(
        name=f"sdk-life-{run_id}", disk_format="raw", container_format="bare", data=DATA,
        allow_duplicates=True, min_disk=1, hw_rng_model="virtio", e2e_color="teal",
    )
    try:
        got = alice.image.get_image(image.id)
        assert got.status == "active"
        assert got.size == len(DATA)
        assert got.checksum == hashlib.md5(DATA).hexdigest()
        assert got.hash_value == hashlib.sha512(DATA).hexdigest()
        assert got.min_disk == 1
        assert got.hw_rng_model == "virtio"
        assert got.properties.get("e2e_color") == "teal"
        # download_image compares the md5 of what it read with the Content-MD5 / checksum.
        assert alice.image.download_image(got).content == DATA
        out = tmp_path / "image.raw"
        alice.image.download_image(got, output=str(out))
        assert out.read_bytes() == DATA
        updated = alice.image.update_image(got, name=f"sdk-life2-{run_id}", os_distro="ubuntu")
        assert updated.name == f"sdk-life2-{run_id}"
        assert alice.image.get_image(image.id).os_distro == "ubuntu"
        alice.image.add_tag(got, "alpha")
        alice.image.add_tag(got, "beta")
        alice.image.remove_tag(got, "alpha")
        assert alice.image.get_image(image.id).tags == ["beta"]
    finally:
        alice.image.delete_image(image.id, ignore_missing=False)
    with pytest.raises(sdk_exc.NotFoundException):
        alice.image.get_image(image.id)


def test_list_filters_sort_and_pagination(alice: Any, run_id: str) -> None:
    tag = f"sdk-list-{run_id}"
    made = [
        alice.image.create_image(
            name=f"sdk-list-{i}-{run_id}", disk_format="qcow2" if i % 2 else "raw",
            container_format="bare", tags=[tag], allow_duplicates=True,
        )
        for i in range(5)
    ]
    try:
        ids = sorted(i.id for i in made)
        assert sorted(i.id for i in alice.image.images(tag=tag)) == ids
        # limit=2 gives pages of two; the proxy follows the "next" links.
        assert sorted(i.id for i in alice.image.images(tag=tag, limit=2)) == ids
        names = [i.name for i in alice.image.images(tag=tag, sort_key="name", sort_dir="desc")]
        assert names == sorted((i.name for i in made), reverse=True)
        qcow = sorted(i.id for i in alice.image.images(tag=tag, disk_format="qcow2"))
        assert qcow == sorted(i.id for i in made if i.disk_format == "qcow2")
        assert [i.name for i in alice.image.images(name=made[3].name)] == [made[3].name]
        assert list(alice.image.images(tag=tag, status="active")) == []
    finally:
        for image in made:
            alice.image.delete_image(image.id)


def test_share_accept_and_visibility(alice: Any, bob: Any, identities: dict[str, Any],
                                     run_id: str) -> None:
    image = alice.image.create_image(
        name=f"sdk-share-{run_id}", disk_format="raw", container_format="bare",
        visibility="shared", data=b"to share", allow_duplicates=True,
    )
    bob_project = identities["bob"].project
    try:
        member = alice.image.add_member(image, member_id=bob_project)
        assert member.status == "pending"
        assert image.id not in [i.id for i in bob.image.images()]
        bob.image.update_member(member, image, status="accepted")
        assert image.id in [i.id for i in bob.image.images()]
        assert [m.member_id for m in alice.image.members(image)] == [bob_project]
        assert bob.image.download_image(image).content == b"to share"
        with pytest.raises(sdk_exc.ForbiddenException):
            bob.image.update_image(image, name="mine now")
    finally:
        alice.image.delete_image(image.id)


def test_negatives(alice: Any, bob: Any, sdk: Callable[[str], Any], run_id: str) -> None:
    image = alice.image.create_image(
        name=f"sdk-neg-{run_id}", disk_format="raw", container_format="bare",
        is_protected=True, allow_duplicates=True,
    )
    try:
        with pytest.raises(sdk_exc.NotFoundException):
            bob.image.get_image(image.id)
        with pytest.raises(sdk_exc.ForbiddenException):
            sdk("reader").image.update_image(image, name="nope")
        with pytest.raises(sdk_exc.ForbiddenException):
            alice.image.delete_image(image.id)
        assert alice.image.get_image(image.id).is_protected is True
    finally:
        alice.image.update_image(image, is_protected=False)
        alice.image.delete_image(image.id)


def test_deactivate_reactivate(alice: Any, sdk: Callable[[str], Any], run_id: str) -> None:
    admin = sdk("admin")
    image = alice.image.create_image(
        name=f"sdk-deact-{run_id}", disk_format="raw", container_format="bare", data=b"x" * 10,
        allow_duplicates=True,
    )
    try:
        admin.image.deactivate_image(image)
        assert alice.image.get_image(image.id).status == "deactivated"
        assert [i.id for i in alice.image.images(status="deactivated", owner=image.owner_id)] \
            == [image.id]
        admin.image.reactivate_image(image)
        assert alice.image.get_image(image.id).status == "active"
    finally:
        alice.image.delete_image(image.id)
