"""``glance-domain db sync | check | expand | migrate | contract`` with glance-manage's
meanings (exit 3 from ``check`` when ``expand`` is needed; ``migrate`` and ``contract`` refuse
to run before ``expand``), on an explicitly configured SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_domain_adapters.db import migrate
from tests.cli.cli_harness import Cli, write_config


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write(f"[database]\nconnection = sqlite:///{tmp_path / 'explicit.sqlite'}\n")
    return Cli(config, capsys)


def test_sync_is_the_complete_migration(cli: Cli) -> None:
    head = migrate.head_version()
    synced = cli.ok("db", "sync", "--no-metadefs", "-f", "json").json()
    assert synced["version"] == head
    assert synced["result"].startswith("synced from")
    again = cli.ok("db", "sync", "-f", "json").json()
    assert again == {"version": head, "result": "up to date, no migrations needed"}
    assert cli.ok("db", "version", "-f", "value").out.strip() == head
    image = cli.create("--name", "after-sync")
    assert image["name"] == "after-sync"


def test_sync_to_a_revision(cli: Cli) -> None:
    first = cli.ok("db", "sync", "--version", "0001_initial", "-f", "json").json()
    assert first["version"] == "0001_initial"
    assert "metadefs" not in first  # only a complete sync loads definitions
    checked = cli("db", "check", "-f", "json")
    assert checked.code == 3
    assert "db expand" in checked.json()["result"]


def test_rolling_upgrade_steps(cli: Cli) -> None:
    checked = cli("db", "check", "-f", "json")
    assert checked.code == 3, checked
    assert checked.json()["version"] is None
    for phase, step in (("migrate", "Data migration"), ("contract", "Database contraction")):
        refused = cli("db", phase)
        assert refused.code == 1
        assert f"{step} did not run" in refused.err and "db expand" in refused.err
    expanded = cli.ok("db", "expand", "-f", "json").json()
    assert expanded["version"] == migrate.head_version()
    assert cli.ok("db", "expand", "-f", "json").json()["result"].startswith(
        "Database expansion is up to date")
    for phase in ("migrate", "contract"):
        done = cli.ok("db", phase, "-f", "json").json()
        assert done["result"] == "Database is up to date. No migrations needed."
    ok = cli("db", "check", "-f", "json")
    assert ok.code == 0 and ok.json()["result"] == "Database is up to date. No upgrades needed."


def test_unknown_revision_is_a_clean_error(cli: Cli) -> None:
    result = cli("db", "sync", "--version", "no-such-revision")
    assert result.code == 1
    assert result.err.startswith("glance-domain: error:") and result.err.count("\n") == 1
