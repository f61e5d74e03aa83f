"""PluginStoreRegistry: the domain's StoreRegistry port over glance_store_plugins."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import glance_store_plugins as gsp
from glance_domain import errors
from glance_domain.ports import StoreRegistry
from glance_domain_adapters.stores import PluginStoreRegistry


@pytest.fixture
def stores(tmp_path: Path) -> PluginStoreRegistry:
    registry = gsp.build_registry(
        {
            "files": ("file", {"filesystem_store_datadir": str(tmp_path / "img"),
                               "store_description": "Local disk"}),
            "mem": ("memory", {}),
            "web": ("http", {}),
        },
        default="files",
    )
    return PluginStoreRegistry(registry)


def test_implements_the_port(stores: PluginStoreRegistry) -> None:
    assert isinstance(stores, StoreRegistry)


def test_backends(stores: PluginStoreRegistry) -> None:
    infos = {info.id: info for info in stores.backends()}
    assert stores.default_backend() == "files"
    assert infos["files"].default and infos["files"].description == "Local disk"
    assert not infos["mem"].default and not infos["mem"].read_only
    assert infos["web"].read_only


def test_write_read_delete(stores: PluginStoreRegistry) -> None:
    stored = stores.write("img1", iter([b"abc", b"def"]), size=6)
    assert stored.backend == "files"
    assert stored.size == 6
    assert stored.checksum == hashlib.md5(b"abcdef").hexdigest()
    assert stored.hash_algo == "sha512"
    assert stored.hash_value == hashlib.sha512(b"abcdef").hexdigest()
    assert stored.metadata["store"] == "files"
    assert stores.backend_of(stored.url) == "files"
    stream = stores.read(stored.url, offset=2, length=3)
    assert stream.file is not None and stream.length == 3
    assert b"".join(stream) == b"cde"
    stream.close()
    stores.delete(stored.url)
    with pytest.raises(errors.NotFound):
        stores.read(stored.url)


def test_memory_read_has_no_file(stores: PluginStoreRegistry) -> None:
    stored = stores.write("img", iter([b"x"]), backend="mem")
    stream = stores.read(stored.url)
    assert stream.file is None
    assert list(stream) == [b"x"]


def test_errors_are_translated(stores: PluginStoreRegistry, tmp_path: Path) -> None:
    stores.write("dup", iter([b"x"]))
    with pytest.raises(errors.Duplicate):
        stores.write("dup", iter([b"y"]))
    with pytest.raises(errors.SizeLimitExceeded):
        stores.write("big", iter([b"x" * 10]), max_size=5)
    with pytest.raises(errors.StoreUnavailable, match="unknown store backend"):
        stores.write("x", iter([b"x"]), backend="nope")
    with pytest.raises(errors.StoreUnavailable, match="does not support WRITE"):
        stores.write("x", iter([b"x"]), backend="web")
    with pytest.raises(errors.InvalidInput):
        stores.write("../x", iter([b"x"]))
    with pytest.raises(errors.StoreUnavailable):
        stores.backend_of("gopher://x/y")
    stored = stores.write("small", iter([b"12345"]))
    with pytest.raises(errors.RangeNotSatisfiable):
        stores.read(stored.url, offset=6)


def test_errors_while_streaming_are_translated(stores: PluginStoreRegistry) -> None:
    stored = stores.write("trunc", iter([b"0123456789"]))
    stream = stores.read(stored.url)
    Path(stored.url.removeprefix("file://")).write_bytes(b"01")  # truncated behind our back
    with pytest.raises(errors.StoreUnavailable, match="ended 8 bytes early"):
        b"".join(stream)
    stream.close()


def test_source_errors_pass_through(stores: PluginStoreRegistry) -> None:
    def source() -> Iterator[bytes]:
        yield b"x"
        raise ConnectionResetError("client gone")

    with pytest.raises(ConnectionResetError):
        stores.write("gone", source())
