"""``glance-domain db ...`` on an explicitly configured SQLite database, and ``serve``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.cli.cli_harness import SCRIPT, Cli, write_config


def _explicit_database(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write(f"[database]\nconnection = sqlite:///{tmp_path / 'explicit.sqlite'}\n")
    return config


def test_upgrade_version_and_purge(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cli = Cli(_explicit_database(tmp_path), capsys)
    assert cli.ok("db", "version", "-f", "json").json() == {"version": None}
    upgraded = cli.ok("db", "upgrade", "-f", "json").json()["version"]
    assert upgraded
    assert cli.ok("db", "version", "-f", "value").out.strip() == upgraded
    assert cli.ok("db", "upgrade", "-f", "json").json()["version"] == upgraded  # idempotent
    image = cli.create("--name", "to-purge")
    cli.ok("image", "delete", image["id"])
    kept = cli.ok("db", "purge", "--age-in-days", "30", "-f", "json").json()
    assert kept == {"age_in_days": 30, "purged": 0}
    purged = cli.ok("db", "purge", "--age-in-days", "0", "-f", "json").json()
    assert purged == {"age_in_days": 0, "purged": 1}
    table = cli.ok("db", "version").out
    assert "| version" in table and upgraded in table


def test_image_commands_on_an_unmigrated_database_fail_cleanly(
    tmp_path: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    cli = Cli(_explicit_database(tmp_path), capsys)
    result = cli("image", "list")
    assert result.code == 1
    assert result.err.startswith("glance-domain: error:") and result.err.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write("[DEFAULT]\nworkers = 1\n[database]\ndb_max_retries = 5\n")
    port = _free_port()
    server = subprocess.Popen(
        [str(SCRIPT), "--config-file", str(config), "serve", "--bind-host", "127.0.0.1",
         "--bind-port", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        body = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/images", timeout=5) as r:
                    body = json.load(r)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet, or busy
                if server.poll() is not None:
                    break
                time.sleep(0.1)
        assert body is not None, server.communicate(timeout=30)[0].decode()[-3000:]
        assert body["images"] == []
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    ignored = [line for line in output.splitlines() if "ignored:" in line]
    assert len(ignored) == 1, output[-3000:]  # Glance's option we do not use, named once
    assert "ignored: [database] db_max_retries (set in the configuration files" in ignored[0]
