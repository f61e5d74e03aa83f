"""The s3 driver against a real S3 implementation: Ceph's radosgw on 127.0.0.1 (the moto tests
are in test_s3.py)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from glance_store_plugins import BackendError, Store
from glance_store_plugins.drivers.s3 import S3Store
from glance_store_plugins.testing import StoreContract


def _options(ceph: Any, **extra: Any) -> dict[str, Any]:
    return {
        "s3_store_host": ceph.rgw_url,
        "s3_store_access_key": ceph.s3_access_key,
        "s3_store_secret_key": ceph.s3_secret_key,
        "s3_store_bucket": f"glance-{uuid.uuid4().hex[:12]}",
        "s3_store_create_bucket_on_put": True,
        "s3_store_large_object_size": 5,
        "s3_store_large_object_chunk_size": 5,
        "s3_store_chunk_size": 256 * 1024,
        "s3_store_bucket_url_format": "path",
        **extra,
    }


class TestS3OnRadosgw(StoreContract):
    @pytest.fixture
    def store(self, ceph_cluster: Any) -> Store:
        return S3Store(_options(ceph_cluster), backend="rgw")


def test_multipart_on_radosgw(ceph_cluster: Any) -> None:
    store = S3Store(_options(ceph_cluster), backend="rgw")
    data = os.urandom(11 * 1024 * 1024 + 5)
    result = store.write("big", (data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)))
    head = store._client.head_object(Bucket=store.bucket, Key="big")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 1 MiB parts
    assert head["ContentLength"] == len(data)
    assert store.read(result.url, offset=(5 << 20) - 3, length=6).read_all() == data[
        (5 << 20) - 3:(5 << 20) + 3
    ]
    assert store.leftovers() == []


def test_wrong_secret_is_a_backend_error(ceph_cluster: Any) -> None:
    store = S3Store(_options(ceph_cluster, s3_store_secret_key="wrong" * 8), backend="rgw")
    with pytest.raises(BackendError) as caught:
        store.write("img", iter([b"x"]))
    assert "wrong" not in str(caught.value)
