"""``main(gateway_factory=...)``: the CLI over a gateway an embedding program built (here the
pure-Python in-memory one), with no configuration file, database or store on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_domain import (
    DefaultPolicy,
    DomainSettings,
    Gateway,
    MemoryImageRepository,
    MemoryStoreRegistry,
    RecordingNotifier,
)
from tests.cli.cli_harness import Cli, Result


@pytest.fixture
def memory_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> tuple[Cli, RecordingNotifier]:
    notifier = RecordingNotifier()
    gateway = Gateway(
        repository=MemoryImageRepository(),
        stores=MemoryStoreRegistry(("default",), hashing_algorithm="sha512"),
        policy=DefaultPolicy(),
        notifier=notifier,
        settings=DomainSettings(),
    )
    return Cli(tmp_path / "unused.conf", capsys, gateway_factory=lambda: gateway), notifier


def test_image_life_cycle_on_an_in_memory_gateway(
    memory_cli: tuple[Cli, RecordingNotifier], tmp_path: Path
) -> None:
    cli, notifier = memory_cli
    data = tmp_path / "disk.img"
    data.write_bytes(b"x" * 70_000)

    def run(*argv: str) -> Result:
        return cli(*argv, config=False)  # no configuration file at all

    created = run("image", "create", "--name", "mem", "--disk-format", "raw",
                  "--container-format", "bare", "--file", str(data), "-f", "json")
    assert created.code == 0, created.err
    image = created.json()
    assert image["status"] == "active" and image["size"] == 70_000 and image["owner"] == "admin"
    assert run("image", "list", "-f", "value", "-c", "name").out == "mem\n"
    target = tmp_path / "copy.img"
    assert run("image", "download", image["id"], "--file", str(target)).code == 0
    assert target.read_bytes() == data.read_bytes()
    assert run("image", "delete", image["id"]).code == 0
    events = notifier.event_types()
    assert "image.create" in events and "image.upload" in events and "image.delete" in events
