"""Loading import plugins from entry points: the built-in names (Glance's), the order, errors,
and the third-party example of docs/import-plugins.md loaded through its own entry point."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from glance_domain_adapters import bootstrap
from glance_domain_adapters.importing.plugins import (
    ImportPluginError,
    available_plugins,
    load_import_plugins,
    load_plugin,
)
from glance_domain_adapters.importing.plugins.conversion import ImageConversion
from glance_domain_adapters.importing.plugins.decompression import ImageDecompression
from glance_domain_adapters.importing.plugins.inject_metadata import InjectImageMetadata
from glance_domain_adapters.importing.plugins.no_op import NoOp
from tests.conftest import unavailable

from .jobs import make_job, qemu_img


def _conf(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "glance-api.conf"
    path.write_text(text)
    return bootstrap.load_config(config_files=[str(path)])


def test_no_plugins_by_default(tmp_path: Path) -> None:
    assert load_import_plugins(_conf(tmp_path, "")) == []


def test_glances_names_load_in_the_configured_order(tmp_path: Path) -> None:
    qemu_img()
    conf = _conf(tmp_path, (
        "[image_import_opts]\n"
        "image_import_plugins = ['image_conversion', inject_image_metadata, "
        "image_decompression, no_op]\n"
        "[inject_metadata_properties]\ninject = a:1,b:2\nignore_user_roles = admin,service\n"
        "[image_conversion]\noutput_format = qcow2\n"
        "[image_format]\nvmdk_allowed_types = streamOptimized\n"))
    loaded = load_import_plugins(conf)
    assert [p.name for p in loaded] == ["image_conversion", "inject_image_metadata",
                                        "image_decompression", "no_op"]
    conversion, inject, decompression, no_op = (p.plugin for p in loaded)
    assert isinstance(conversion, ImageConversion) and conversion.output_format == "qcow2"
    assert conversion.vmdk_allowed_types == ("streamOptimized",)
    assert isinstance(inject, InjectImageMetadata)
    assert inject.properties == {"a": "1", "b": "2"}
    assert inject.ignored_roles == {"admin", "service"}
    assert isinstance(decompression, ImageDecompression) and isinstance(no_op, NoOp)


def test_defaults_of_the_plugin_options(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "")
    assert conf.image_import_opts.image_import_plugins == []
    assert conf.inject_metadata_properties.ignore_user_roles == ["admin"]
    assert conf.inject_metadata_properties.inject == {}
    assert conf.image_conversion.output_format == "raw"
    assert conf.image_format.vmdk_allowed_types == ["streamOptimized", "monolithicSparse"]


def test_unknown_and_broken_plugins_are_configuration_errors(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "")
    with pytest.raises(ImportPluginError, match=r"unknown import plugin 'nope'.*no_op"):
        load_plugin("nope", conf)
    conf = _conf(tmp_path, "[image_conversion]\noutput_format = tiff\n")
    with pytest.raises(Exception, match="tiff"):
        load_plugin("image_conversion", conf)


def test_image_conversion_needs_qemu_img_at_start_up(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ImportPluginError, match=r"'image_conversion' cannot be set up: "
                       r"RuntimeError: qemu-img is not installed \(Debian/Ubuntu package "
                       r"qemu-utils\)"):
        load_plugin("image_conversion", _conf(tmp_path, ""))


def test_the_third_party_example_plugin(tmp_path: Path) -> None:
    if "sha256_property" not in available_plugins():  # pragma: no cover - environment
        unavailable("example plugin not installed: pip install -e examples/example_import_plugin"
                    " (python3 dev.py test installs it)")
    conf = _conf(tmp_path, "[sha256_property]\nproperty_name = content_sha256\n")
    plugin = load_plugin("sha256_property", conf)
    job, holder, _ = make_job(tmp_path, b"hello")
    plugin.run(job)
    assert holder.image.extra_properties == {
        "content_sha256": hashlib.sha256(b"hello").hexdigest()}
