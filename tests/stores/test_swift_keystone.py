"""The swift driver authenticating with Keystone v3 (the suite's real Keystone) to a Swift
proxy running keystonemiddleware's authtoken and swift's keystoneauth."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_store_plugins import BackendError
from glance_store_plugins.drivers.swift import SwiftStore
from tests.platform.conftest import keystone  # noqa: F401 - the session's Keystone fixture
from tests.stores.conftest import GlanceStoreWrite, _missing


@pytest.fixture(scope="module")
def keystone_swift(swift_aio: Any, keystone: Any) -> Iterator[tuple[Any, str]]:  # noqa: F811
    """(the Keystone, the storage URL of its project's account on the keystone proxy)."""
    from tests.stores.servers import ServerUnavailable

    try:
        port = swift_aio.start_keystone_proxy(keystone.authtoken_section())
    except ServerUnavailable as exc:
        _missing(f"Swift with Keystone: {exc}")
    _register_object_store(keystone, f"http://127.0.0.1:{port}/v1/AUTH_$(project_id)s")
    yield keystone, f"http://127.0.0.1:{port}/v1/AUTH_{keystone.project_id}"


def _register_object_store(ks: Any, url: str) -> None:
    """Add Swift to the Keystone catalogue (swiftclient finds the account's URL there)."""
    token = ks.token("admin", ks.admin_password, "admin")["id"]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            ks.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"X-Auth-Token": token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)  # type: ignore[no-any-return]

    service = post("/services", {"service": {"type": "object-store", "name": "swift"}})
    post("/endpoints", {"endpoint": {"service_id": service["service"]["id"], "interface": "public",
                                     "url": url, "region_id": "RegionOne"}})


def _options(ks: Any, storage_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    conf = tmp_path / "glance-swift.conf"
    conf.write_text(
        f"[keystone]\nauth_address = {ks.url}\nauth_version = 3\n"
        f"user = {ks.project_name}:{ks.member}\nkey = {ks.user_password}\n"
        "user_domain_id = default\nproject_domain_id = default\n"
    )
    return {
        "swift_store_config_file": str(conf),
        "default_swift_reference": "keystone",
        "swift_store_container": f"glance-{uuid.uuid4().hex[:10]}",
        "swift_store_create_container_on_put": True,
        "swift_store_large_object_size": 2,
        "swift_store_large_object_chunk_size": 1,
        **extra,
    }


def test_round_trip_as_a_keystone_user(keystone_swift: tuple[Any, str], tmp_path: Path) -> None:
    """Write (an SLO), read a range, delete: the contract suite itself runs against tempauth
    and radosgw (authentication is all that differs here, and each Keystone request is slow)."""
    store = SwiftStore(_options(*keystone_swift, tmp_path), backend="swift-ks")
    data = os.urandom(3 * (1 << 20) + 5)
    result = store.write("img-slo", (data[i:i + 65536] for i in range(0, len(data), 65536)))
    assert result.size == len(data)
    assert store.read(result.url, offset=(1 << 20) - 1, length=3).read_all() == data[
        (1 << 20) - 1:(1 << 20) + 2]
    store.delete(result.url)
    _, listing = store._conn("keystone").get_container(store.container)
    assert listing == []


def test_objects_land_in_the_projects_account(keystone_swift: tuple[Any, str],
                                              tmp_path: Path) -> None:
    store = SwiftStore(_options(*keystone_swift, tmp_path), backend="swift-ks")
    result = store.write("img-ks", iter([b"keystone"]))
    assert result.url == f"swift+config://keystone/{store.container}/img-ks"
    url, token = store._conn("keystone").get_auth()
    assert url == keystone_swift[1]
    assert token


def test_wrong_password_is_refused(keystone_swift: tuple[Any, str], tmp_path: Path) -> None:
    ks, storage_url = keystone_swift
    options = _options(ks, storage_url, tmp_path, swift_store_retries=0)
    conf = Path(options["swift_store_config_file"])
    conf.write_text(conf.read_text().replace(ks.user_password, "wrong-password"))
    with pytest.raises(BackendError) as caught:
        SwiftStore(options, backend="swift-ks").write("img", iter([b"x"]))
    assert "wrong-password" not in str(caught.value)


def test_object_written_by_glance_store(
    keystone_swift: tuple[Any, str], tmp_path: Path, glance_store_write: GlanceStoreWrite
) -> None:
    """glance_store 5.7 (as Glance 33 uses it) writes an image; it reads unchanged. (Its
    segmented writes failed here after a minute on their third segment, both for 2 MiB and for
    2 MiB + 9 bytes in 1 MiB segments: not investigated yet, so the image here is one object;
    test_swift.py reads and deletes a dynamic large object of glance_store's layout.)"""
    options = _options(*keystone_swift, tmp_path)
    data = os.urandom(300_000)
    location, size, _ = glance_store_write("swift", {
        "swift_store_config_file": options["swift_store_config_file"],
        "default_swift_reference": "keystone",
        "swift_store_container": options["swift_store_container"],
        "swift_store_create_container_on_put": True,
    }, "gs-swift", data)
    assert location == f"swift+config://keystone/{options['swift_store_container']}/gs-swift"
    store = SwiftStore(options, backend="swift-ks")
    assert store.size(location) == size == len(data)
    assert store.read(location).read_all() == data
    store.delete(location)
    _, listing = store._conn("keystone").get_container(store.container)
    assert listing == []
