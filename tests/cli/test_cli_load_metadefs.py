"""``glance-domain db load-metadefs``: definition files (Glance's format) into the database,
then read back over the Image API from the same configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import webob

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import Cli, write_config

HYPERVISOR = {
    "namespace": "Example::Hypervisor",
    "display_name": "Hypervisor choice",
    "description": "Which hypervisor an image needs.",
    "visibility": "public",
    "protected": True,
    "resource_type_associations": [{"name": "OS::Glance::Image"}],
    "properties": {
        "hypervisor_type": {"title": "Hypervisor", "type": "string",
                            "enum": ["kvm", "qemu", "xen"]},
    },
    "objects": [{"name": "Limits", "description": "CPU limits",
                 "properties": {"cpu_max": {"title": "Max", "type": "integer"}}}],
    "tags": [{"name": "virt"}],
}


def _write(folder: Path, name: str, document: Any) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(document) if not isinstance(document, str)
                               else document)


def _namespace(config: Path, name: str) -> webob.Response:
    app = bootstrap.build_app(bootstrap.load_config([], [str(config)]))
    req = webob.Request.blank(f"/v2/metadefs/namespaces/{name}",
                              headers={"X-Roles": "admin", "X-Project-Id": "admin"})
    return req.get_response(app)


def test_load_skip_and_merge(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path)
    cli = Cli(config, capsys)
    folder = tmp_path / "metadefs"
    _write(folder, "hypervisor.json", HYPERVISOR)
    _write(folder, "broken.json", "{not json")
    _write(folder, "invalid.json", {"namespace": "Bad", "visibility": "everyone"})

    result = cli("db", "load-metadefs", "--path", str(folder), "-f", "json")
    assert result.code == 1  # two bad files, reported, the good one loaded
    rows = {r["file"]: r for r in result.json()}
    assert rows["hypervisor.json"] == {"file": "hypervisor.json",
                                       "namespace": "Example::Hypervisor", "result": "created"}
    assert rows["broken.json"]["result"].startswith("error:") and "not JSON" in \
        rows["broken.json"]["result"]
    assert "does not match schema 'namespace'" in rows["invalid.json"]["result"]

    shown = _namespace(config, "Example::Hypervisor")
    assert shown.status_int == 200, shown.text
    doc = shown.json
    assert doc["protected"] is True and doc["visibility"] == "public"
    assert doc["properties"]["hypervisor_type"]["enum"] == ["kvm", "qemu", "xen"]
    assert [o["name"] for o in doc["objects"]] == ["Limits"]
    assert [t["name"] for t in doc["tags"]] == ["virt"]
    assert [a["name"] for a in doc["resource_type_associations"]] == ["OS::Glance::Image"]

    (folder / "broken.json").unlink()
    (folder / "invalid.json").unlink()
    again = cli.ok("db", "load-metadefs", "--path", str(folder), "-f", "json").json()
    assert again[0]["result"].startswith("skipped")

    grown = dict(HYPERVISOR, properties={
        **HYPERVISOR["properties"],  # type: ignore[dict-item]
        "vm_mode": {"title": "VM mode", "type": "string"}},
        tags=[{"name": "virt"}, {"name": "compute"}])
    _write(folder, "hypervisor.json", grown)
    merged = cli.ok("db", "load-metadefs", "--path", str(folder), "--merge", "-f", "json").json()
    assert merged[0]["result"] == "merged (2 added)"
    doc = _namespace(config, "Example::Hypervisor").json
    assert set(doc["properties"]) == {"hypervisor_type", "vm_mode"}
    assert sorted(t["name"] for t in doc["tags"]) == ["compute", "virt"]


def test_a_missing_folder_is_a_clean_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cli = Cli(write_config(tmp_path), capsys)
    result = cli("db", "load-metadefs", "--path", str(tmp_path / "nowhere"))
    assert result.code != 0 and "is not a folder" in result.err
    assert "Traceback" not in result.err
