"""The standard metadata definitions shipped with glance-domain: loaded by ``db sync`` on a
new database (unless ``--no-metadefs``), read back over the Image API as Horizon reads them,
and ``db export-metadefs`` / ``unload-metadefs`` / ``load-metadefs DIR`` round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import webob

from glance_domain_adapters import bootstrap
from glance_domain_adapters.metadefs import STANDARD_DIR
from tests.cli.cli_harness import Cli, write_config

ADMIN = {"X-Identity-Status": "Confirmed", "X-Roles": "admin,member,reader",
         "X-Project-Id": "admin", "X-User-Id": "admin"}
MEMBER = {"X-Identity-Status": "Confirmed", "X-Roles": "member,reader", "X-Project-Id": "p1",
          "X-User-Id": "u1"}
STANDARD = sorted(json.loads(p.read_text())["namespace"] for p in STANDARD_DIR.glob("*.json"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    with path.open("a") as f:
        f.write(f"[database]\nconnection = sqlite:///{tmp_path / 'explicit.sqlite'}\n")
    return path


def _api(config: Path, path: str, headers: dict[str, str] = MEMBER) -> Any:
    app = bootstrap.build_app(bootstrap.load_config([], [str(config)]), migrate=False)
    resp = webob.Request.blank(path, headers=headers).get_response(app)
    assert resp.status_int == 200, resp.text
    return resp.json


def test_the_shipped_files_cover_what_nova_and_horizon_read() -> None:
    assert {"OS::Compute::Libvirt", "OS::Compute::Hypervisor", "OS::Compute::CPUPinning",
            "OS::Compute::Watchdog", "OS::Compute::GuestOS",
            "OS::Compute::Storage"} <= set(STANDARD)
    properties = {}
    for path in STANDARD_DIR.glob("*.json"):
        document = json.loads(path.read_text())
        assert document["visibility"] == "public" and document["protected"] is True
        properties.update(document["properties"])
    for name in ("hw_disk_bus", "hw_vif_model", "hw_firmware_type", "hw_qemu_guest_agent",
                 "hypervisor_type", "cpu_policy", "watchdog_action", "os_distro",
                 "architecture", "img_signature_hash_method", "cinder_img_volume_type"):
        assert name in properties, name


def test_sync_loads_them_into_a_new_database(config: Path, capsys: Any) -> None:
    cli = Cli(config, capsys)
    synced = cli.ok("db", "sync", "-f", "json").json()
    assert synced["metadefs"] == f"loaded {len(STANDARD)} standard namespaces"
    listed = _api(config, "/v2/metadefs/namespaces?limit=100")
    assert sorted(n["namespace"] for n in listed["namespaces"]) == STANDARD
    types = {t["name"] for t in _api(config, "/v2/metadefs/resource_types")["resource_types"]}
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= types
    # as Horizon asks for a flavor's extra specs and an image's properties
    flavor = _api(config, "/v2/metadefs/namespaces/OS::Compute::CPUPinning"
                          "?resource_type=OS::Nova::Flavor")
    assert set(flavor["properties"]) == {"hw:cpu_policy", "hw:cpu_thread_policy",
                                         "hw:emulator_threads_policy"}
    image = _api(config, "/v2/metadefs/namespaces/OS::Compute::Watchdog"
                         "?resource_type=OS::Glance::Image")
    assert image["properties"]["hw_watchdog_action"]["enum"] == [
        "disabled", "reset", "poweroff", "pause", "none"]
    # a later sync (an upgrade) leaves the definitions alone
    again = cli.ok("db", "sync", "-f", "json").json()
    assert "metadefs" not in again


def test_no_metadefs(config: Path, capsys: Any) -> None:
    cli = Cli(config, capsys)
    assert "metadefs" not in cli.ok("db", "upgrade", "--no-metadefs", "-f", "json").json()
    assert _api(config, "/v2/metadefs/namespaces")["namespaces"] == []


def test_export_unload_and_load_again(config: Path, tmp_path: Path, capsys: Any) -> None:
    cli = Cli(config, capsys)
    cli.ok("db", "sync")
    before = {n: _api(config, f"/v2/metadefs/namespaces/{n}", ADMIN) for n in STANDARD}
    folder = tmp_path / "exported"
    folder.mkdir()
    exported = cli.ok("db", "export-metadefs", str(folder), "-f", "json").json()
    assert sorted(r["namespace"] for r in exported) == STANDARD
    assert len(list(folder.glob("*.json"))) == len(STANDARD)

    removed = cli.ok("db", "unload-metadefs", "-f", "json").json()
    assert removed == {"namespaces_removed": len(STANDARD)}  # protected ones too
    assert _api(config, "/v2/metadefs/namespaces")["namespaces"] == []
    assert _api(config, "/v2/metadefs/resource_types")["resource_types"] == []

    loaded = cli.ok("db", "load_metadefs", "--path", str(folder), "-f", "json").json()
    assert {r["result"] for r in loaded} == {"created"}
    after = {n: _api(config, f"/v2/metadefs/namespaces/{n}", ADMIN) for n in STANDARD}

    def content(doc: dict[str, Any]) -> dict[str, Any]:
        doc = {k: v for k, v in doc.items() if k not in ("created_at", "updated_at")}
        doc["resource_type_associations"] = [
            {k: v for k, v in a.items() if k not in ("created_at", "updated_at")}
            for a in doc.get("resource_type_associations", [])]
        return doc

    assert {n: content(d) for n, d in after.items()} == \
        {n: content(d) for n, d in before.items()}


def test_one_file_may_be_loaded(config: Path, capsys: Any) -> None:
    cli = Cli(config, capsys)
    cli.ok("db", "sync", "--no-metadefs")
    one = STANDARD_DIR / "compute-watchdog.json"
    rows = cli.ok("db", "load-metadefs", str(one), "-f", "json").json()
    assert rows == [{"file": one.name, "namespace": "OS::Compute::Watchdog",
                     "result": "created"}]


def test_standard_flag_loads_them_anywhere(tmp_path: Path, capsys: Any) -> None:
    cli = Cli(write_config(tmp_path), capsys)  # the default SQLite database
    rows = cli.ok("db", "load-metadefs", "--standard", "-f", "json").json()
    assert sorted(r["namespace"] for r in rows) == STANDARD
    assert {r["result"] for r in rows} == {"created"}
