"""The swift driver against a real Swift all-in-one (tempauth) and radosgw's Swift API."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_store_plugins import BackendError, ConfigError, NotFound, Store
from glance_store_plugins.drivers.swift import SwiftStore
from glance_store_plugins.testing import SourceFailed, StoreContract

MiB = 1 << 20


def _options(aio: Any, **extra: Any) -> dict[str, Any]:
    return {
        "swift_store_auth_address": aio.auth_url,
        "swift_store_user": f"{aio.account}:{aio.user}",
        "swift_store_key": aio.key,
        "swift_store_auth_version": "1",
        "swift_store_container": f"glance-{uuid.uuid4().hex[:10]}",
        "swift_store_create_container_on_put": True,
        "swift_store_large_object_size": 2,
        "swift_store_large_object_chunk_size": 1,
        **extra,
    }


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i:i + size] for i in range(0, len(data), size))


def _objects(store: SwiftStore, container: str | None = None) -> list[str]:
    _, listing = store._conn(store._ref).get_container(container or store.container)
    return [item["name"] for item in listing]


class TestSwiftStore(StoreContract):
    @pytest.fixture
    def store(self, swift_aio: Any) -> Store:
        return SwiftStore(_options(swift_aio), backend="swift")


class TestSwiftStoreWithConfigFile(StoreContract):
    @pytest.fixture
    def store(self, swift_aio: Any, tmp_path: Path) -> Store:
        return SwiftStore(_config_file_options(swift_aio, tmp_path), backend="swift")


class TestSwiftOnRadosgw(StoreContract):
    @pytest.fixture
    def store(self, ceph_cluster: Any) -> Store:
        return SwiftStore({
            "swift_store_auth_address": f"{ceph_cluster.rgw_url}/auth/1.0",
            "swift_store_user": ceph_cluster.swift_user,
            "swift_store_key": ceph_cluster.swift_key,
            "swift_store_auth_version": "1",
            "swift_store_container": f"glance-{uuid.uuid4().hex[:10]}",
            "swift_store_create_container_on_put": True,
            "swift_store_large_object_size": 2,
            "swift_store_large_object_chunk_size": 1,
        }, backend="rgw-swift")


def _config_file_options(aio: Any, tmp_path: Path) -> dict[str, Any]:
    conf = tmp_path / "glance-swift.conf"
    conf.write_text(
        f"[store-1]\nauth_address = {aio.auth_url}\nauth_version = 1\n"
        f"user = {aio.account}:{aio.user}\nkey = {aio.key}\n"
    )
    options = _options(aio, swift_store_config_file=str(conf),
                       default_swift_reference="store-1")
    for name in ("swift_store_auth_address", "swift_store_user", "swift_store_key",
                 "swift_store_auth_version"):
        del options[name]
    return options


def test_failed_upload_removes_its_slo_segments(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio), backend="swift")
    data = os.urandom(3 * MiB + 100)
    written: list[int] = []

    def failing() -> Iterator[bytes]:
        for chunk in _chunks(data, 256 * 1024):
            written.append(len(chunk))
            yield chunk
        raise SourceFailed("client went away")

    with pytest.raises(SourceFailed):
        store.write("img-fail", failing())
    assert sum(written) == len(data)  # three full segments were sent before the failure
    assert _objects(store) == []
    result = store.write("img-fail", _chunks(data, 256 * 1024))  # the id is free again
    assert store.read(result.url).read_all() == data


def test_large_image_is_an_slo_small_one_a_plain_object(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio), backend="swift")
    data = os.urandom(2 * MiB + 5)
    big = store.write("big", _chunks(data, 300_000), size=len(data))
    small = store.write("small", iter([b"tiny"]))
    unknown = store.write("unknown-small", _chunks(data[:MiB], 1000))
    conn = store._conn(store._ref)
    assert conn.head_object(store.container, "big")["x-static-large-object"] == "True"
    assert "x-static-large-object" not in conn.head_object(store.container, "small")
    assert "x-static-large-object" not in conn.head_object(store.container, "unknown-small")
    assert sorted(_objects(store)) == ["big", "big-00001", "big-00002", "big-00003", "small",
                                       "unknown-small"]
    assert store.read(big.url, offset=MiB - 2, length=4).read_all() == data[MiB - 2:MiB + 2]
    assert store.read(unknown.url).read_all() == data[:MiB]
    assert store.size(big.url) == len(data)
    assert big.url == f"swift+http://{swift_aio.auth_url.split('://')[1]}/{store.container}/big"
    store.delete(big.url)
    store.delete(small.url)
    assert _objects(store) == ["unknown-small"]  # the segments went with the manifest


def test_multiple_containers_seed(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio, swift_store_multiple_containers_seed=3),
                       backend="swift")
    result = store.write("abcdef-1", iter([b"seeded"]))
    assert result.url.endswith(f"/{store.container}_abc/abcdef-1")
    assert _objects(store, f"{store.container}_abc") == ["abcdef-1"]
    assert store.read(result.url).read_all() == b"seeded"


def test_missing_container_without_create_option(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio, swift_store_create_container_on_put=False),
                       backend="swift")
    with pytest.raises(BackendError, match="swift_store_create_container_on_put"):
        store.write("img", iter([b"x"]))


def test_config_file_locations_and_glance_store_forms(swift_aio: Any, tmp_path: Path) -> None:
    store = SwiftStore(_config_file_options(swift_aio, tmp_path), backend="swift")
    result = store.write("img-conf", iter([b"by reference"]))
    assert result.url == f"swift+config://store-1/{store.container}/img-conf"
    assert store.read(result.url).read_all() == b"by reference"
    assert not store.owns(f"swift+config://other-ref/{store.container}/img-conf")
    plain = SwiftStore(_options(swift_aio, swift_store_container=store.container),
                       backend="plain")
    address = swift_aio.auth_url.split("://")[1]
    # glance_store embeds the credentials in such locations: they are ignored and redacted
    with_creds = f"swift+http://glance%3Atester:{swift_aio.key}@{address}/{store.container}/img-conf"
    assert plain.owns(with_creds)
    assert plain.read(with_creds).read_all() == b"by reference"
    assert swift_aio.key not in plain.redact(with_creds)
    assert not plain.owns(f"swift+http://127.0.0.1:1/auth/v1.0/{store.container}/img-conf")


def test_glance_store_dynamic_large_objects_are_read_and_deleted(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio), backend="swift")
    conn = store._conn(store._ref)
    conn.put_container(store.container)
    conn.put_object(store.container, "dlo-00001", b"first-")
    conn.put_object(store.container, "dlo-00002", b"second")
    conn.put_object(store.container, "dlo", b"",
                    headers={"X-Object-Manifest": f"{store.container}/dlo-"})
    url = store.location_for(store.container, "dlo")
    assert store.read(url).read_all() == b"first-second"
    store.delete(url)
    assert _objects(store) == []
    with pytest.raises(NotFound):
        store.size(url)


def test_wrong_key_is_a_clean_backend_error(swift_aio: Any) -> None:
    store = SwiftStore(_options(swift_aio, swift_store_key="not-the-key",
                                swift_store_retries=0), backend="swift")
    with pytest.raises(BackendError) as caught:
        store.write("img", iter([b"x"]))
    assert "not-the-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"swift_store_multiple_containers_seed": 33}, "0-32"),
        ({"swift_store_multi_tenant": True}, "not supported"),
        ({"swift_store_auth_version": "4"}, "1, 2 or 3"),
        ({"swift_store_key": None}, "swift_store_key"),
        ({"swift_store_config_file": "/nonexistent/swift.conf"}, "cannot read"),
        ({"swift_store_container": "a/b"}, "without '/'"),
    ],
)
def test_bad_options(override: dict[str, Any], message: str) -> None:
    class Fake:
        auth_url, account, user, key = "http://127.0.0.1:9/auth/v1.0", "a", "u", "k"

    with pytest.raises(ConfigError, match=message):
        SwiftStore(_options(Fake(), **override), backend="swift")
