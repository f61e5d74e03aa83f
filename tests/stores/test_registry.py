"""Loading drivers through entry points and routing between named backends."""

from __future__ import annotations

from pathlib import Path

import pytest
import stevedore

import glance_store_plugins as gsp
from glance_store_plugins.drivers.filesystem import FileStore
from glance_store_plugins.drivers.memory import MemoryStore


def test_builtin_drivers_are_entry_points() -> None:
    assert {"file", "http", "memory", "s3"} <= set(gsp.available_drivers())
    assert gsp.load_driver("memory") is MemoryStore
    assert gsp.load_driver("file") is FileStore
    assert "filesystem_store_datadir" in gsp.driver_options("file")


def test_multi_store_routes_by_location(tmp_path: Path) -> None:
    registry = gsp.build_registry(
        {
            "fast": ("memory", {"store_description": "RAM"}),
            "disk": ("file", {"filesystem_store_datadir": str(tmp_path / "a")}),
            "disk2": ("file", {"filesystem_store_datadir": str(tmp_path / "b")}),
        },
        default="disk",
    )
    assert registry.names() == ["fast", "disk", "disk2"]
    assert registry.default == "disk"
    on_default = registry.write("one", [b"1"])
    on_fast = registry.write("two", [b"2"], backend="fast")
    on_disk2 = registry.write("three", [b"3"], backend="disk2")
    assert (on_default.backend, on_fast.backend, on_disk2.backend) == ("disk", "fast", "disk2")
    assert registry.backend_of(on_default.url) == "disk"
    assert registry.backend_of(on_fast.url) == "fast"
    assert registry.backend_of(on_disk2.url) == "disk2"
    assert registry.read(on_disk2.url).read_all() == b"3"
    assert registry.get("fast").description == "RAM"
    registry.delete(on_fast.url)
    with pytest.raises(gsp.NotFound):
        registry.read(on_fast.url)
    with pytest.raises(gsp.UnknownBackend, match="nope"):
        registry.write("x", [b""], backend="nope")
    with pytest.raises(gsp.UnknownBackend):
        registry.backend_of(f"file://{tmp_path}/c/x")


def test_single_store_is_named_default() -> None:
    registry = gsp.build_registry({"default": ("memory", {})})
    assert registry.default == "default"


def test_hashing_algorithm_is_configurable() -> None:
    registry = gsp.build_registry({"default": ("memory", {})}, hashing_algorithm="sha256")
    assert registry.write("x", [b"abc"]).hash_algo == "sha256"
    with pytest.raises(gsp.ConfigError, match="unsupported hashing algorithm"):
        gsp.build_registry({"default": ("memory", {})}, hashing_algorithm="rot13")


@pytest.mark.parametrize(
    ("backends", "default", "message"),
    [
        ({}, None, "no store backend"),
        ({"a": ("memory", {}), "b": ("memory", {})}, None, "no default"),
        ({"a": ("memory", {})}, "b", "default store backend 'b' is not configured"),
        ({"a": ("nosuchdriver", {})}, "a", "unknown store driver 'nosuchdriver'.*memory"),
        ({"a": ("memory", {"colour": "blue"})}, "a", "store backend 'a'.*unknown option.*colour"),
        ({"a": "memory"}, "a", "expected \\(driver_name, options\\)"),
        ({"a": ("file", {"filesystem_store_datadir": 3})}, "a", "expected a string"),
    ],
)
def test_broken_configuration_fails_loudly(
    backends: dict, default: str | None, message: str
) -> None:
    with pytest.raises(gsp.ConfigError, match=message):
        gsp.build_registry(backends, default)


def _install_fake_distribution(
    root: Path, monkeypatch: pytest.MonkeyPatch, entry_points: str, module: str = ""
) -> None:
    """A real installed distribution (dist-info on sys.path) registering ``entry_points``."""
    dist = root / "broken_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{gsp.NAMESPACE}]\n{entry_points}\n")
    if module:
        (root / "broken_plugin_mod.py").write_text(module)
    monkeypatch.syspath_prepend(str(root))
    # stevedore caches each namespace's entry points for the life of the process
    monkeypatch.setattr(stevedore.ExtensionManager, "ENTRY_POINT_CACHE", {})


def test_unimportable_plugin_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_fake_distribution(tmp_path, monkeypatch, "ghost = no_such_module_xyz:GhostStore")
    assert "ghost" in gsp.available_drivers()
    with pytest.raises(gsp.PluginLoadError, match=r"backend .g..*.ghost..*cannot be loaded"):
        gsp.build_registry({"g": ("ghost", {})})


def test_plugin_that_is_not_a_store_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_fake_distribution(
        tmp_path, monkeypatch, "notastore = broken_plugin_mod:Thing",
        module="class Thing:\n    pass\n",
    )
    with pytest.raises(gsp.PluginLoadError, match="not a subclass"):
        gsp.load_driver("notastore")


def test_registry_from_driver_objects_checks_names() -> None:
    with pytest.raises(gsp.ConfigError, match="built for backend"):
        gsp.Registry({"a": MemoryStore(backend="b")}, default="a")
