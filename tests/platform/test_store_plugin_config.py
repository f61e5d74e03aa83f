"""Store types and their options come from the installed store drivers, not a fixed list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from glance_domain_adapters import bootstrap, config
from glance_store_plugins import Option, Store, available_drivers


@pytest.fixture(autouse=True)
def _plugins_installed() -> None:
    """The test environment has both plugin packages (python3 dev.py test installs them)."""
    missing = {"chunked", "example"} - set(available_drivers())
    if missing:
        pytest.fail(f"store plugin(s) {', '.join(sorted(missing))} not installed: pip install "
                    "tests/plugins/chunked_store_plugin examples/example_store_plugin")


def _conf(tmp_path: Path, text: str) -> object:
    path = tmp_path / "glance-api.conf"
    path.write_text(text)
    return bootstrap.load_config(config_files=[str(path)])


def test_every_installed_driver_is_a_store_type() -> None:
    types = config.installed_store_types()
    assert {"chunked", "example", "file", "http", "s3", "memory"} <= set(types)
    assert types["filesystem"] == "file" and types["https"] == "http"


def test_backend_group_takes_the_driver_options_typed(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "[DEFAULT]\nenabled_backends = parts:chunked\n"
                 "[glance_store]\ndefault_backend = parts\n"
                 f"[parts]\nchunked_store_root = {tmp_path}/p\nchunked_store_chunk_size = 9\n"
                 "chunked_store_token = tok\nweight = 3\n")
    group = conf.parts  # type: ignore[attr-defined]
    assert group.chunked_store_chunk_size == 9 and group.weight == 3
    backends, default = bootstrap.store_backends(conf)  # type: ignore[arg-type]
    assert default == "parts"
    assert backends["parts"] == ("chunked", {"chunked_store_root": f"{tmp_path}/p",
                                             "chunked_store_chunk_size": 9,
                                             "chunked_store_token": "tok"})
    store = bootstrap.build_stores(conf)  # type: ignore[arg-type]
    assert store is not None


def test_single_store_takes_the_driver_options_from_glance_store(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "[glance_store]\nstores = chunked\ndefault_store = chunked\n"
                 f"chunked_store_root = {tmp_path}/p\n")
    stores = config.stores_config(conf)  # type: ignore[arg-type]
    assert [(b.name, b.driver) for b in stores.backends] == [("default", "chunked")]
    assert stores.backends[0].options == {"chunked_store_root": f"{tmp_path}/p"}


def test_a_bad_value_of_a_plugin_option_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunked_store_chunk_size"):
        conf = _conf(tmp_path, "[DEFAULT]\nenabled_backends = parts:chunked\n"
                     "[glance_store]\ndefault_backend = parts\n"
                     "[parts]\nchunked_store_chunk_size = many\n")
        conf.parts.chunked_store_chunk_size  # type: ignore[attr-defined]  # noqa: B018


def test_unknown_type_lists_the_installed_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown store type 'tape'; installed types: .*chunked"):
        _conf(tmp_path, "[glance_store]\ndefault_store = tape\n")


def test_config_generator_lists_plugin_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oslo_config.generator", "--namespace", "glance_domain"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("\n[glance_store]\n", 1)[1].split("\n[", 1)[0]
    for name in ("example_store_root", "chunked_store_root", "chunked_store_chunk_size",
                 "filesystem_store_datadir"):
        assert f"#{name} = " in section
    assert "Credential of the (pretend) backend" in section


def test_option_key_must_be_the_option_name() -> None:
    with pytest.raises(TypeError, match="the key must be the option's name"):
        class Misdeclared(Store):
            options = {"root_dir": Option(name="store_root")}
    with pytest.raises(TypeError, match="not an Option"):
        class NotAnOption(Store):
            options = {"root": "a string"}  # type: ignore[dict-item]


def test_cli_uses_a_plugin_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from glance_domain_adapters.cli.main import main as cli_main

    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}/data\nenabled_backends = parts:chunked\n"
                    "[glance_store]\ndefault_backend = parts\n"
                    f"[parts]\nchunked_store_root = {tmp_path}/parts\n"
                    "chunked_store_chunk_size = 100\n")
    (tmp_path / "disk.raw").write_bytes(b"x" * 250)
    assert cli_main(["--config-file", str(path), "-f", "value", "-c", "id", "image", "create",
                     "--name", "p", "--disk-format", "raw", "--container-format", "bare",
                     "--file", str(tmp_path / "disk.raw")]) == 0
    image_id = capsys.readouterr().out.strip()
    assert sorted(p.name for p in (tmp_path / "parts" / "index").iterdir()) == [image_id]
    blob = next((tmp_path / "parts" / "blobs").iterdir())
    assert sorted(p.name for p in blob.iterdir()) == ["0", "1", "2"]
    assert cli_main(["--config-file", str(path), "image", "download", image_id,
                     "--file", str(tmp_path / "back.raw")]) == 0
    assert (tmp_path / "back.raw").read_bytes() == b"x" * 250


def test_builtin_rbd_and_swift_backends_take_their_declared_options(tmp_path: Path) -> None:
    """Drivers added to glance_store_plugins later need no change here: their declared options
    are registered in their backends' sections."""
    conf = _conf(tmp_path, "[DEFAULT]\nenabled_backends = ceph:rbd, objects:swift\n"
                 "[glance_store]\ndefault_backend = ceph\n"
                 "[ceph]\nrbd_store_pool = vms\nrbd_store_chunk_size = 4\n"
                 "[objects]\nswift_store_user = test:tester\nswift_store_key = testing\n")
    backends, default = bootstrap.store_backends(conf)  # type: ignore[arg-type]
    assert default == "ceph"
    assert backends["ceph"] == ("rbd", {"rbd_store_pool": "vms", "rbd_store_chunk_size": 4})
    assert backends["objects"][1]["swift_store_user"] == "test:tester"
    assert backends["objects"][1]["swift_store_key"] == "testing"
