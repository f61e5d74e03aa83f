"""Data written by the real glance_store library (5.7, as Glance 33 uses it) is read, sized and
deleted unchanged by the native drivers: RBD and S3 on the test Ceph cluster, files on disk.

(glance_store's swift driver authenticates through Keystone only, even with tempauth
credentials: its objects are written in test_swift_keystone.py.)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from glance_store_plugins import NotFound, Store
from glance_store_plugins.drivers.filesystem import FileStore
from glance_store_plugins.drivers.s3 import S3Store
from tests.stores.conftest import GlanceStoreWrite
from tests.stores.rbd_support import make_store


def _check(store: Store, location: str, data: bytes) -> None:
    import hashlib

    assert store.owns(location)
    assert store.size(location) == len(data)
    assert store.read(location).read_all() == data
    assert store.read(location, offset=len(data) - 10).read_all() == data[-10:]
    assert hashlib.md5(store.read(location).read_all()).hexdigest() == hashlib.md5(
        data).hexdigest()
    store.delete(location)
    with pytest.raises(NotFound):
        store.size(location)


def test_rbd_image_written_by_glance_store(
    glance_store_write: GlanceStoreWrite, ceph_cluster: Any, rbd_pool: str
) -> None:
    data = os.urandom(3 * (1 << 20) + 11)
    location, size, _ = glance_store_write("rbd", {
        "rbd_store_pool": rbd_pool, "rbd_store_ceph_conf": str(ceph_cluster.conf),
        "rbd_store_user": "admin", "rbd_store_chunk_size": 1,
    }, "gs-rbd", data)
    assert location == f"rbd://{ceph_cluster.fsid}/{rbd_pool}/gs-rbd/snap"
    assert size == len(data)
    store = make_store(ceph_cluster, rbd_pool)
    _check(store, location, data)  # its protected snapshot is unprotected and removed too


def test_s3_object_written_by_glance_store(
    glance_store_write: GlanceStoreWrite, ceph_cluster: Any
) -> None:
    data = os.urandom(2 * (1 << 20) + 3)
    bucket = f"gs-{uuid.uuid4().hex[:10]}"
    location, _, _ = glance_store_write("s3", {
        "s3_store_host": ceph_cluster.rgw_url, "s3_store_access_key": ceph_cluster.s3_access_key,
        "s3_store_secret_key": ceph_cluster.s3_secret_key, "s3_store_bucket": bucket,
        "s3_store_create_bucket_on_put": True,
    }, "gs-s3", data)
    assert ceph_cluster.s3_secret_key not in location
    store = S3Store({
        "s3_store_host": ceph_cluster.rgw_url, "s3_store_access_key": ceph_cluster.s3_access_key,
        "s3_store_secret_key": ceph_cluster.s3_secret_key, "s3_store_bucket": bucket,
    }, backend="rgw")
    _check(store, location, data)


def test_file_written_by_glance_store(glance_store_write: GlanceStoreWrite,
                                      tmp_path: Path) -> None:
    data = os.urandom(1 << 20)
    datadir = tmp_path / "images"
    location, _, _ = glance_store_write(
        "file", {"filesystem_store_datadir": str(datadir)}, "gs-file", data
    )
    assert location == f"file://{datadir}/gs-file"
    _check(FileStore({"filesystem_store_datadir": str(datadir)}, backend="files"), location, data)
