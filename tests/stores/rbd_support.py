"""The rbd driver configured for the test Ceph cluster (shared by the RBD test modules)."""

from __future__ import annotations

from typing import Any

from glance_store_plugins import Store


def make_store(ceph: Any, pool: str, **extra: Any) -> Store:
    """An RbdStore on ``pool`` of the test cluster, with 1 MiB objects (several per test image)."""
    from glance_store_plugins.drivers.rbd import RbdStore

    return RbdStore({
        "rbd_store_pool": pool,
        "rbd_store_ceph_conf": str(ceph.conf),
        "rbd_store_user": "admin",
        "rbd_store_chunk_size": 1,
        "rados_connect_timeout": 30,
        **extra,
    }, backend="ceph")
