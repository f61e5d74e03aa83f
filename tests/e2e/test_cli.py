"""The ``glance`` (python-glanceclient) and ``openstack image`` (python-openstackclient)
command lines against the server, as subprocesses, without keystone.

They send no identity headers, so they act as the server's local admin (project ``admin``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def _table(output: str) -> dict[str, str]:
    """Property/Value rows of a glance CLI table."""
    rows = {}
    for line in output.splitlines():
        m = re.match(r"\|\s*(\S+)\s*\|\s*(.*?)\s*\|$", line)
        if m and m.group(1) not in ("Property", "ID"):
            rows[m.group(1)] = m.group(2)
    return rows


def test_glance_cli(run_cli: Callable[..., Any], run_id: str, tmp_path: Path) -> None:
    src = tmp_path / "disk.raw"
    data = b"glance cli bytes\n" * 1000
    src.write_bytes(data)
    name = f"cli-glance-{run_id}"
    created = _table(run_cli(
        "glance", "image-create", "--name", name, "--disk-format", "raw",
        "--container-format", "bare", "--property", "cli_prop=one", "--file", str(src),
    ).stdout)
    image_id = created["id"]
    try:
        assert created["status"] == "active"
        assert created["checksum"] == hashlib.md5(data).hexdigest()
        assert created["cli_prop"] == "one"
        listed = run_cli("glance", "image-list", "--property-filter", f"name={name}").stdout
        assert image_id in listed
        run_cli("glance", "image-update", image_id, "--property", "cli_prop=two",
                "--min-ram", "64")
        run_cli("glance", "image-tag-update", image_id, "clitag")
        shown = _table(run_cli("glance", "image-show", image_id).stdout)
        assert shown["cli_prop"] == "two"
        assert shown["min_ram"] == "64"
        assert "clitag" in shown["tags"]
        out = tmp_path / "downloaded.raw"
        run_cli("glance", "image-download", "--file", str(out), image_id)
        assert out.read_bytes() == data
        missing = run_cli("glance", "image-show", "00000000-0000-4000-8000-000000000000",
                          check=False)
        assert missing.returncode != 0
        assert "404" in missing.stderr or "No image" in missing.stderr
    finally:
        run_cli("glance", "image-delete", image_id)
    gone = run_cli("glance", "image-show", image_id, check=False)
    assert gone.returncode != 0


def test_openstack_image_cli(run_cli: Callable[..., Any], run_id: str, tmp_path: Path) -> None:
    src = tmp_path / "disk.img"
    data = bytes(range(256)) * 300
    src.write_bytes(data)
    name = f"cli-osc-{run_id}"
    tag = f"osc-{run_id}"
    created = json.loads(run_cli(
        "openstack", "image", "create", "--disk-format", "raw", "--container-format", "bare",
        "--file", str(src), "--property", "osc_prop=a", "--tag", tag, "--private", name,
        "-f", "json",
    ).stdout)
    image_id = created["id"]
    try:
        assert created["status"] == "active"
        assert created["checksum"] == hashlib.md5(data).hexdigest()
        listed = json.loads(run_cli("openstack", "image", "list", "--tag", tag,
                                    "--long", "-f", "json").stdout)
        assert [(i["ID"], i["Name"]) for i in listed] == [(image_id, name)]
        run_cli("openstack", "image", "set", "--property", "osc_prop=b", "--min-disk", "3",
                "--tag", "second", image_id)
        shown = json.loads(run_cli("openstack", "image", "show", image_id, "-f", "json").stdout)
        assert shown["min_disk"] == 3
        assert shown["properties"]["osc_prop"] == "b"
        assert sorted(shown["tags"]) == sorted([tag, "second"])
        out = tmp_path / "saved.img"
        run_cli("openstack", "image", "save", "--file", str(out), image_id)
        assert out.read_bytes() == data
    finally:
        run_cli("openstack", "image", "delete", image_id)


def test_glance_cli_create_via_import(run_cli: Callable[..., Any], run_id: str,
                                      tmp_path: Path) -> None:
    """``glance image-create-via-import`` discovers the import methods, stages and imports."""
    src = tmp_path / "import.raw"
    data = b"imported by the glance CLI\n" * 500
    src.write_bytes(data)
    created = _table(run_cli(
        "glance", "image-create-via-import", "--name", f"cli-import-{run_id}",
        "--disk-format", "raw", "--container-format", "bare",
        "--import-method", "glance-direct", "--file", str(src),
    ).stdout)
    image_id = created["id"]
    try:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = _table(run_cli("glance", "image-show", image_id).stdout)
            if shown["status"] not in ("uploading", "importing"):
                break
            time.sleep(0.3)
        assert shown["status"] == "active"
        assert shown["checksum"] == hashlib.md5(data).hexdigest()
    finally:
        run_cli("glance", "image-delete", image_id)
