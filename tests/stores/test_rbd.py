"""The rbd driver against a real single-node Ceph cluster on 127.0.0.1 (one pool per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from glance_store_plugins import ConfigError, InUse, InvalidLocation, NotFound, Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.testing import StoreContract
from tests.stores.rbd_support import make_store

MiB = 1 << 20


@pytest.fixture
def rbd_store(ceph_cluster: Any, rbd_pool: str) -> Iterator[Any]:
    store = make_store(ceph_cluster, rbd_pool)
    yield store
    store.close()


class TestRbdStore(StoreContract):
    @pytest.fixture
    def store(self, rbd_store: Any) -> Store:
        return rbd_store  # type: ignore[no-any-return]


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i:i + size] for i in range(0, len(data), size))


def test_location_names_fsid_pool_image_and_a_protected_snapshot(
    ceph_cluster: Any, rbd_store: Any
) -> None:
    import rbd

    result = rbd_store.write("img-1", iter([b"abc"]))
    assert result.url == f"rbd://{ceph_cluster.fsid}/{rbd_store.pool}/img-1/snap"
    with rbd_store._cluster().open_ioctx(rbd_store.pool) as ioctx, rbd.Image(ioctx, "img-1") as img:
        assert [s["name"] for s in img.list_snaps()] == ["snap"]
        assert img.is_protected_snap("snap")
        assert img.size() == 3


def test_nova_cow_clone_and_in_use_delete_refused(rbd_store: Any) -> None:
    """Nova's RBD image backend clones the snapshot; the data cannot go while the clone exists."""
    import rbd

    data = os.urandom(3 * MiB + 17)
    result = rbd_store.write("parent", _chunks(data, 65536), size=len(data))
    with rbd_store._cluster().open_ioctx(rbd_store.pool) as ioctx:
        rbd.RBD().clone(ioctx, "parent", "snap", ioctx, "instance-disk")
        with rbd.Image(ioctx, "instance-disk") as clone:
            assert clone.parent_info()[1:] == ("parent", "snap")
            assert clone.read(0, len(data)) == data
            clone.write(b"changed", 0)  # copy-on-write: the image is untouched
        with pytest.raises(InUse, match="in use"):
            rbd_store.delete(result.url)
        assert rbd_store.read(result.url).read_all() == data  # still whole and protected
        with rbd.Image(ioctx, "parent") as parent:
            assert parent.is_protected_snap("snap")
        rbd.RBD().remove(ioctx, "instance-disk")
    rbd_store.delete(result.url)
    with pytest.raises(NotFound):
        rbd_store.size(result.url)


def test_unknown_size_grows_then_trims(rbd_store: Any) -> None:
    data = os.urandom(5 * MiB + 3)
    for image_id, size in (("unknown", None), ("too-small", MiB), ("too-big", 9 * MiB)):
        result = rbd_store.write(image_id, _chunks(data, 100_000), size=size)
        assert rbd_store.size(result.url) == len(data)
        assert rbd_store.read(result.url).read_all() == data


def _data_objects(store: Any, name: str) -> int:
    import rbd

    with store._cluster().open_ioctx(store.pool) as ioctx:
        with rbd.Image(ioctx, name) as img:
            prefix = img.block_name_prefix()
        return sum(1 for obj in ioctx.list_objects() if obj.key.startswith(prefix))


def test_thin_provisioning_skips_zero_chunks(ceph_cluster: Any, rbd_pool: str) -> None:
    data = os.urandom(MiB) + bytes(6 * MiB) + os.urandom(MiB // 2)
    thin = make_store(ceph_cluster, rbd_pool, rbd_thin_provisioning=True)
    thick = make_store(ceph_cluster, rbd_pool)
    assert Capability.THIN_PROVISIONING in thin.capabilities
    assert Capability.THIN_PROVISIONING not in thick.capabilities
    thin_url = thin.write("thin", _chunks(data, 300_000)).url
    thick_url = thick.write("thick", _chunks(data, 300_000), size=len(data)).url
    assert thin.read(thin_url).read_all() == data
    assert thick.read(thick_url).read_all() == data
    assert _data_objects(thin, "thin") == 2
    assert _data_objects(thick, "thick") == 8


def test_glance_store_location_forms_are_read(ceph_cluster: Any, rbd_store: Any) -> None:
    data = b"written by glance_store"
    result = rbd_store.write("legacy", iter([data]))
    assert rbd_store.read(result.url).read_all() == data
    old_form = "rbd://legacy"  # glance_store's oldest form: image in the configured pool
    assert rbd_store.owns(old_form)
    assert rbd_store.read(old_form).read_all() == data
    other = result.url.replace(ceph_cluster.fsid, str(uuid.uuid4()))
    assert not rbd_store.owns(other)  # another cluster's image
    with pytest.raises(InvalidLocation):
        rbd_store.read(f"rbd://{ceph_cluster.fsid}/pool-only")


def test_missing_pool_is_not_found(ceph_cluster: Any, rbd_store: Any) -> None:
    with pytest.raises(NotFound):
        rbd_store.read(f"rbd://{ceph_cluster.fsid}/no-such-pool/img/snap")


@pytest.mark.parametrize(
    ("override", "message"),
    [({"rbd_store_chunk_size": 3}, "power of two"), ({"rados_connect_timeout": -1}, "negative")],
)
def test_bad_options(ceph_cluster: Any, override: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_store(ceph_cluster, "images", **override)
