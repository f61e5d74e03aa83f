"""Import plugins over HTTP, as an operator configures them: a glance-api.conf with
``[image_import_opts] image_import_plugins``, the application built by ``bootstrap.build_app``
(SQLite, file store, file staging, thread pool), and a glance-direct import (stage, then
import) checked from the image the API shows afterwards."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from glance_domain_adapters import bootstrap
from glance_domain_adapters.importing.plugins import ImportPluginError, available_plugins
from tests.importing.jobs import qemu, qemu_img, zip_bytes

from .conftest import ADMIN, ALICE, Client

DISK = bytes(range(256)) * 8192  # 2 MiB


class Service:
    def __init__(self, tmp: Path, options: str) -> None:
        self.tmp = tmp
        config = tmp / "glance-api.conf"
        config.write_text(
            "[DEFAULT]\n"
            f"data_dir = {tmp / 'data'}\n"
            "[glance_store]\n"
            "stores = file\n"
            "default_store = file\n"
            f"filesystem_store_datadir = {tmp / 'images'}\n"
            + options
        )
        self.conf = bootstrap.load_config(config_files=[str(config)])
        self.gateway = bootstrap.build_gateway(self.conf)
        self.client = Client(bootstrap.build_app(self.conf, gateway=self.gateway), ALICE)

    def close(self) -> None:
        self.gateway.importer.executor.shutdown()

    def glance_direct(self, data: bytes, as_: dict[str, str] | None = None,
                      **attrs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create, stage, import; the image once the import ended, and its task."""
        c = self.client
        body = {"name": "imp", "disk_format": "raw", "container_format": "bare", **attrs}
        created = c.post("/v2/images", body, as_=as_)
        assert created.status_int == 201, created.text
        image_id = created.json["id"]
        staged = c.put(f"/v2/images/{image_id}/stage", body=data,
                       content_type="application/octet-stream", as_=as_)
        assert staged.status_int == 204, staged.text
        resp = c.post(f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}},
                      as_=as_)
        assert resp.status_int == 202, resp.text
        deadline = time.monotonic() + 60
        while True:
            image = dict(c.get(f"/v2/images/{image_id}", as_=as_).json)
            if "os_glance_import_task" not in image or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        (task,) = c.get(f"/v2/images/{image_id}/tasks", as_=as_).json["tasks"]
        return image, dict(task)

    def staged_files(self) -> list[str]:
        staging = self.tmp / "data" / "staging"
        return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


@pytest.fixture
def service(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Service]:
    svc = Service(tmp_path, request.param)
    yield svc
    svc.close()


def plugins(*names: str, extra: str = "") -> str:
    return f"[image_import_opts]\nimage_import_plugins = [{', '.join(names)}]\n{extra}"


def _assert_active_with(image: dict[str, Any], data: bytes) -> None:
    assert image["status"] == "active", image
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()


@pytest.mark.parametrize("service", [plugins("no_op")], indirect=True)
def test_no_op(service: Service) -> None:
    image, task = service.glance_direct(DISK)
    _assert_active_with(image, DISK)
    assert task["status"] == "success"


INJECT = plugins("inject_image_metadata", extra=(
    "[inject_metadata_properties]\n"
    "inject = hw_scsi_model:virtio-scsi,classified:no,os_glance_sneaky:x\n"
    "ignore_user_roles = admin\n"))


@pytest.mark.parametrize("service", [INJECT], indirect=True)
def test_inject_image_metadata(service: Service) -> None:
    image, _task = service.glance_direct(DISK)
    _assert_active_with(image, DISK)
    assert image["hw_scsi_model"] == "virtio-scsi" and image["classified"] == "no"
    assert "os_glance_sneaky" not in image
    # an admin's import gets nothing injected
    image, _ = service.glance_direct(DISK, as_=ADMIN)
    assert image["status"] == "active" and "hw_scsi_model" not in image


@pytest.mark.parametrize("service", [INJECT + "[DEFAULT]\nimage_property_quota = 1\n"],
                         indirect=True)
def test_inject_beyond_the_property_quota_fails_the_import(service: Service) -> None:
    image, task = service.glance_direct(DISK)
    assert image["status"] == "queued" and "hw_scsi_model" not in image
    assert image["os_glance_failed_import"] == "default"
    assert task["status"] == "failure"
    assert task["message"] == (
        "Import plugin inject_image_metadata failed: The limit has been exceeded on the number "
        "of allowed image properties. Attempted: 2, Maximum: 1")
    assert service.staged_files() == []


PROTECTIONS = """\
[^secret_]
create = admin
read = admin
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""


@pytest.fixture
def protected(tmp_path: Path) -> Iterator[Service]:
    (tmp_path / "property-protections.conf").write_text(PROTECTIONS)
    svc = Service(tmp_path, (
        "[DEFAULT]\n"
        f"property_protection_file = {tmp_path / 'property-protections.conf'}\n"
        "[image_import_opts]\nimage_import_plugins = [inject_image_metadata]\n"
        "[inject_metadata_properties]\ninject = secret_level:high,public_note:hi\n"
        "ignore_user_roles = nobody\n"))
    yield svc
    svc.close()


def test_inject_follows_the_importing_users_property_protections(protected: Service) -> None:
    """As in Glance, injected properties are set with the importing user's property rights:
    a member may not create ``secret_*``, so its import fails; an admin's succeeds."""
    image, task = protected.glance_direct(DISK)
    assert task["status"] == "failure"
    assert task["message"] == ("Import plugin inject_image_metadata failed: Attribute "
                               "'secret_level' is reserved.")
    assert image["status"] == "queued" and "public_note" not in image
    assert image["os_glance_failed_import"] == "default" and protected.staged_files() == []

    image, task = protected.glance_direct(DISK, as_=ADMIN)
    assert task["status"] == "success"
    _assert_active_with(image, DISK)
    assert image["secret_level"] == "high" and image["public_note"] == "hi"


@pytest.mark.parametrize("service", [plugins("image_decompression")], indirect=True)
@pytest.mark.parametrize(
    "pack",
    [gzip.compress, lambda d: zip_bytes(("disk.raw", d)), bz2.compress, lzma.compress,
     lambda d: zstandard.ZstdCompressor().compress(d)],
    ids=["gzip", "zip", "bzip2", "xz", "zstd"])
def test_image_decompression(service: Service, pack: Any) -> None:
    image, task = service.glance_direct(pack(DISK))
    _assert_active_with(image, DISK)
    assert image["disk_format"] == "raw" and image["virtual_size"] == len(DISK)
    assert service.client.get(f"/v2/images/{image['id']}/file").body == DISK
    assert task["status"] == "success" and service.staged_files() == []


@pytest.mark.parametrize("service", [plugins("image_decompression")], indirect=True)
def test_image_decompression_failure_reverts_the_import(service: Service) -> None:
    image, task = service.glance_direct(zip_bytes(("a", DISK), ("b", DISK)))
    assert task["status"] == "failure"
    assert task["message"] == ("Import plugin image_decompression failed: Archive contains "
                               "more than one file.")
    assert image["status"] == "queued" and image["checksum"] is None
    assert image["os_glance_failed_import"] == "default"
    assert image["os_glance_importing_to_stores"] == ""
    assert service.staged_files() == []
    # the image can be staged and imported again
    image, task = service.glance_direct(gzip.compress(DISK))
    _assert_active_with(image, DISK)


@pytest.mark.parametrize("service", [plugins("image_decompression",
                                             extra="[DEFAULT]\nimage_size_cap = 4194304\n")],
                         indirect=True)
def test_a_decompression_bomb_stops_at_the_size_cap(service: Service) -> None:
    image, task = service.glance_direct(gzip.compress(b"\0" * (64 << 20)))
    assert task["status"] == "failure"
    assert "The incoming image is too large" in task["message"]
    assert image["status"] == "queued" and service.staged_files() == []


CONVERT = plugins("image_conversion", extra="[image_conversion]\noutput_format = raw\n")


@pytest.fixture
def qcow2(tmp_path: Path) -> bytes:
    qemu_img()
    raw = tmp_path / "disk.raw"
    raw.write_bytes(DISK)
    out = tmp_path / "disk.qcow2"
    qemu("convert", "-f", "raw", "-O", "qcow2", str(raw), str(out))
    return out.read_bytes()


@pytest.mark.parametrize("service", [CONVERT], indirect=True)
def test_image_conversion(service: Service, qcow2: bytes) -> None:
    image, task = service.glance_direct(qcow2, disk_format="qcow2")
    _assert_active_with(image, DISK)
    assert image["disk_format"] == "raw" and image["container_format"] == "bare"
    assert image["virtual_size"] == len(DISK)
    assert service.client.get(f"/v2/images/{image['id']}/file").body == DISK
    assert task["status"] == "success" and service.staged_files() == []


@pytest.mark.parametrize("service", [CONVERT], indirect=True)
def test_image_conversion_refuses_a_backing_file(service: Service, tmp_path: Path) -> None:
    qemu_img()
    base = tmp_path / "base.raw"
    base.write_bytes(DISK)
    backed = tmp_path / "backed.qcow2"
    qemu("create", "-f", "qcow2", "-b", str(base), "-F", "raw", str(backed))
    image, task = service.glance_direct(backed.read_bytes(), disk_format="qcow2")
    assert task["status"] == "failure"
    assert task["message"] == ("Import plugin image_conversion failed: Image has disallowed "
                               "configuration")
    assert image["status"] == "queued" and image["disk_format"] == "qcow2"
    assert image["os_glance_failed_import"] == "default" and service.staged_files() == []


@pytest.mark.parametrize("service", [plugins("image_decompression", "image_conversion",
                                             "inject_image_metadata", extra=(
    "[inject_metadata_properties]\ninject = converted:yes\n"))], indirect=True)
def test_plugins_chain_in_the_configured_order(service: Service, qcow2: bytes) -> None:
    image, _ = service.glance_direct(gzip.compress(qcow2), disk_format="qcow2")
    _assert_active_with(image, DISK)
    assert image["disk_format"] == "raw" and image["converted"] == "yes"


def test_an_unknown_plugin_stops_the_application(tmp_path: Path) -> None:
    with pytest.raises(ImportPluginError, match=(
            r"^unknown import plugin 'nope' in \[image_import_opts\] image_import_plugins; "
            r"installed plugins: .*image_decompression")):
        Service(tmp_path, plugins("no_op", "nope"))


def test_serve_with_an_unknown_plugin_exits_with_one_line(tmp_path: Path) -> None:
    from tests.cli.cli_harness import SCRIPT, write_config

    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write(plugins("image_decompressoin"))
    result = subprocess.run([str(SCRIPT), "--config-file", str(config), "serve",
                             "--bind-port", "1"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "glance-domain: error: Configuration error: unknown import plugin "
        "'image_decompressoin' in [image_import_opts] image_import_plugins; installed plugins: "
        + ", ".join(available_plugins())]
