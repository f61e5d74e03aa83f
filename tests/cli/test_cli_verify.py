"""``glance-domain image verify``: the integrity scrub on a real configuration (SQLite and the
file store), with stored files corrupted or removed behind the service's back."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_harness import SCRIPT, Cli, write_config

DATA = os.urandom(300_000)


@pytest.fixture
def cli(tmp_path: Path, capsys: Any) -> Cli:
    return Cli(write_config(tmp_path), capsys)


def _stored(cli: Cli, tmp_path: Path, name: str) -> tuple[str, Path]:
    source = tmp_path / f"{name}.raw"
    source.write_bytes(DATA)
    image = cli.create("--name", name, "--disk-format", "raw", "--container-format", "bare",
                       "--file", str(source))
    (path,) = [p for p in (tmp_path / "images").iterdir() if image["id"] in p.name]
    return image["id"], path


def _rows(cli: Cli, *argv: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = cli("image", "verify", "-f", "json", *argv)
    return result.code, {row["id"]: row for row in __import__("json").loads(result.out)}


def test_intact_data_verifies(cli: Cli, tmp_path: Path) -> None:
    first, _ = _stored(cli, tmp_path, "one")
    second, _ = _stored(cli, tmp_path, "two")
    queued = cli.create("--name", "no-data")["id"]
    code, rows = _rows(cli, "--all")
    assert code == 0
    assert {rows[first]["outcome"], rows[second]["outcome"]} == {"ok"}
    assert queued not in rows  # --all checks images that have data
    code, rows = _rows(cli, queued)
    assert code == 0 and rows[queued]["outcome"] == "no-data"


def test_corrupt_and_missing_data_are_reported_and_quarantined(cli: Cli, tmp_path: Path) -> None:
    corrupt, corrupt_path = _stored(cli, tmp_path, "corrupt")
    missing, missing_path = _stored(cli, tmp_path, "missing")
    intact, _ = _stored(cli, tmp_path, "intact")
    flipped = bytearray(corrupt_path.read_bytes())
    flipped[1000] ^= 0xFF  # same size, one bit pattern changed
    corrupt_path.write_bytes(bytes(flipped))
    missing_path.unlink()

    code, rows = _rows(cli, "--all")
    assert code == 1
    assert rows[corrupt]["outcome"] == "mismatch" and "md5" in rows[corrupt]["detail"]
    assert "sha512" in rows[corrupt]["detail"] and "size" not in rows[corrupt]["detail"]
    assert rows[missing]["outcome"] == "missing"
    assert rows[intact]["outcome"] == "ok"
    # without --quarantine nothing changes
    assert cli.ok("image", "show", corrupt, "-f", "json").json()["status"] == "active"

    code, _ = _rows(cli, corrupt, missing, intact, "--quarantine")
    assert code == 1
    for image_id, outcome in ((corrupt, "mismatch"), (missing, "missing")):
        shown = cli.ok("image", "show", image_id, "-f", "json").json()
        assert shown["status"] == "deactivated"
        assert outcome in shown["os_glance_verify_failure"]
    assert cli.ok("image", "show", intact, "-f", "json").json()["status"] == "active"


def test_usage_errors(cli: Cli) -> None:
    assert cli("image", "verify").code == 2
    assert cli("image", "verify", "x", "--all").code == 2
    assert cli("image", "verify", "--all", "--bandwidth", "fast").code == 2
    unknown = cli("image", "verify", "nope")
    assert unknown.code == 1 and unknown.err.count("\n") == 1


def test_the_daemon_reports_failures_and_stops_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    corrupt, path = _stored(cli, tmp_path, "corrupt")
    path.write_bytes(b"x" * len(DATA))
    daemon = subprocess.Popen(
        [str(SCRIPT), "--config-file", str(cli.config), "image", "verify", "--daemon",
         "--window", "2", "--bandwidth", "10M", "-f", "value", "-c", "id", "-c", "outcome"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("OS_")})
    try:
        assert daemon.stdout is not None
        first = daemon.stdout.readline()
        second = daemon.stdout.readline()  # the next pass, window seconds later
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
    assert first.split() == [corrupt, "mismatch"] and second == first
    assert daemon.returncode == 0, err
