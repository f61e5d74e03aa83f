"""Delayed delete over HTTP and ``glance-domain scrubber`` (Glance's ``glance-scrubber``), on a
real configuration: SQLite database and file store in a temporary folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import SCRIPT, Cli, write_config
from tests.wsgi.conftest import ALICE, Client

DATA = b"scrub me " * 1000


def _config(tmp_path: Path, scrub_time: int = 0) -> Path:
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write(f"[DEFAULT]\ndelayed_delete = true\nscrub_time = {scrub_time}\n"
                "scrub_pool_size = 2\nwakeup_time = 1\n")
    return config


def _client(config: Path) -> Client:
    conf = bootstrap.load_config([], [str(config)])
    return Client(bootstrap.build_app(conf), ALICE)


def _image_with_data(client: Client) -> tuple[str, Path]:
    image = client.create(name="doomed", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], DATA).status_int == 204
    files = [p for p in (Path(client.images_dir)).iterdir() if image["id"] in p.name]
    assert len(files) == 1
    return image["id"], files[0]


@pytest.fixture
def setup(tmp_path: Path, capsys: Any) -> tuple[Client, Cli]:
    config = _config(tmp_path)
    client = _client(config)
    client.images_dir = tmp_path / "images"  # type: ignore[attr-defined]
    return client, Cli(config, capsys)


def test_delete_keeps_the_data_until_the_scrubber_runs(setup: tuple[Client, Cli]) -> None:
    client, cli = setup
    image_id, path = _image_with_data(client)
    assert client.delete(f"/v2/images/{image_id}").status_int == 204
    assert client.get(f"/v2/images/{image_id}").status_int == 404
    assert image_id not in client.get("/v2/images").text
    assert path.read_bytes() == DATA  # kept for the scrubber
    assert cli.ok("scrubber", "-f", "json").json() == {"images": 1, "locations": 1, "failed": 0}
    assert not path.exists()
    assert cli.ok("scrubber", "-f", "json").json() == {"images": 0, "locations": 0, "failed": 0}
    result = cli("scrubber", "--restore", image_id)
    assert result.code == 1
    assert ("cannot restore the image from deleted to active (wanted "
            "from_state=pending_delete)") in result.err


def test_restore_returns_the_image_with_its_data(setup: tuple[Client, Cli]) -> None:
    client, cli = setup
    image_id, path = _image_with_data(client)
    client.patch(f"/v2/images/{image_id}", [{"op": "add", "path": "/k", "value": "v"}])
    assert client.delete(f"/v2/images/{image_id}").status_int == 204
    assert cli.ok("scrubber", "--restore", image_id, "-f", "json").json() == {
        "id": image_id, "status": "active"}
    shown = client.get(f"/v2/images/{image_id}").json
    assert shown["status"] == "active" and shown["k"] == "v"
    assert client.get(f"/v2/images/{image_id}/file").body == DATA
    assert cli.ok("scrubber", "-f", "json").json()["locations"] == 0
    assert path.read_bytes() == DATA


def test_images_without_data_are_deleted_at_once(setup: tuple[Client, Cli]) -> None:
    client, cli = setup
    image = client.create(name="empty")
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204
    result = cli("scrubber", "--restore", image["id"])
    assert result.code == 1 and "cannot restore the image from deleted" in result.err


def test_a_deactivated_image_cannot_be_deleted_as_in_glance(setup: tuple[Client, Cli]) -> None:
    """Glance 33's status machine has no deactivated -> pending_delete: its delete answers 400."""
    client, _cli = setup
    image_id, path = _image_with_data(client)
    assert client.post(f"/v2/images/{image_id}/actions/deactivate").status_int == 204
    refused = client.delete(f"/v2/images/{image_id}")
    assert refused.status_int == 400
    assert ("Image status transition from deactivated to pending_delete is not allowed"
            in refused.text)
    assert client.get(f"/v2/images/{image_id}").json["status"] == "deactivated"
    assert path.read_bytes() == DATA


def test_scrubber_usage_errors_are_glances(setup: tuple[Client, Cli]) -> None:
    cli = setup[1]
    both = cli("scrubber", "--restore", "x", "--daemon")
    assert both.code == 1
    assert "The restore and daemon options should not be set together" in both.err
    unknown = cli("scrubber", "--restore", "nope")
    assert unknown.code == 1 and "Not found: no image with name or ID 'nope'" in unknown.err
    assert unknown.err.count("\n") == 1  # one line, no traceback


def test_data_is_kept_for_scrub_time(tmp_path: Path, capsys: Any) -> None:
    config = _config(tmp_path, scrub_time=3600)
    client = _client(config)
    client.images_dir = tmp_path / "images"  # type: ignore[attr-defined]
    image_id, path = _image_with_data(client)
    assert client.delete(f"/v2/images/{image_id}").status_int == 204
    assert Cli(config, capsys).ok("scrubber", "-f", "json").json()["locations"] == 0
    assert path.exists()


def test_the_daemon_scrubs_every_wakeup_time_and_stops_on_sigterm(
        setup: tuple[Client, Cli]) -> None:
    client, cli = setup
    daemon = subprocess.Popen(
        [str(SCRIPT), "--config-file", str(cli.config), "scrubber", "--daemon", "-f", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("OS_")})
    try:
        image_id, path = _image_with_data(client)
        assert client.delete(f"/v2/images/{image_id}").status_int == 204
        deadline = time.monotonic() + 60
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not path.exists(), "the daemon did not scrub within 60 s"
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err.decode()
    assert b'"locations": 1' in out
