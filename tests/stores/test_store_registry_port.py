"""The domain's StoreRegistry port, run against the domain's in-memory registry and the
plugin-backed one (file and memory drivers): they must agree."""

from __future__ import annotations

from pathlib import Path

import pytest

import glance_store_plugins as gsp
from glance_domain import errors
from glance_domain.memory import MemoryStoreRegistry
from glance_domain.ports import StoreRegistry
from glance_domain_adapters.stores import PluginStoreRegistry


@pytest.fixture(params=["domain-memory", "plugin-file", "plugin-memory"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> StoreRegistry:
    if request.param == "domain-memory":
        return MemoryStoreRegistry(("a", "b"))
    driver, options = {
        "plugin-file": ("file", {"filesystem_store_datadir": str(tmp_path / "img")}),
        "plugin-memory": ("memory", {}),
    }[request.param]
    second = dict(options)
    if "filesystem_store_datadir" in second:
        second["filesystem_store_datadir"] = str(tmp_path / "img2")
    return PluginStoreRegistry(
        gsp.build_registry({"a": (driver, options), "b": (driver, second)}, default="a"))


def _read(stores: StoreRegistry, url: str) -> bytes:
    stream = stores.read(url)
    try:
        return b"".join(stream)
    finally:
        stream.close()


def test_writing_an_image_twice_to_one_backend_is_duplicate(stores: StoreRegistry) -> None:
    first = stores.write("img1", [b"first"])
    with pytest.raises(errors.Duplicate):
        stores.write("img1", [b"second"])
    assert _read(stores, first.url) == b"first"
    other = stores.write("img1", [b"other"], backend="b")
    assert _read(stores, other.url) == b"other" and _read(stores, first.url) == b"first"


def test_data_can_be_written_again_after_delete(stores: StoreRegistry) -> None:
    first = stores.write("img1", [b"first"])
    stores.delete(first.url)
    again = stores.write("img1", [b"again"])
    assert _read(stores, again.url) == b"again"
