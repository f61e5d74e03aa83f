"""Uploading and downloading image data through the CLI (real file store in tmp_path)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.cli.cli_harness import Cli

DATA = bytes(range(256)) * 1000  # 256 kB: several 64 KiB chunks


def test_create_with_file_activates_the_image(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "disk.img"
    source.write_bytes(DATA)
    image = cli.create("--name", "with-data", "--disk-format", "raw", "--container-format",
                       "bare", "--file", str(source))
    assert image["status"] == "active"
    assert image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()


def test_upload_then_download_round_trips(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.img"
    source.write_bytes(DATA)
    image = cli.create("--name", "later", "--disk-format", "raw", "--container-format", "bare")
    uploaded = cli.ok("image", "upload", image["id"], "--file", str(source), "-f", "json").json()
    assert uploaded["status"] == "active" and uploaded["size"] == len(DATA)
    target = tmp_path / "out.img"
    result = cli.ok("image", "download", image["id"], "--file", str(target))
    assert result.out == "" and result.err == ""  # no bar: stderr is not a terminal
    assert target.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_upload_with_a_wrong_size_fails_and_leaves_the_image_queued(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "in.img"
    source.write_bytes(DATA)
    image = cli.create("--name", "sized", "--disk-format", "raw", "--container-format", "bare")
    result = cli("image", "upload", image["id"], "--file", str(source), "--size", "10")
    assert result.code == 1 and result.err.startswith("glance-domain: error:")
    assert cli.ok("image", "show", image["id"], "-f", "value", "-c", "status").out == "queued\n"


def test_download_of_an_image_without_data_fails(cli: Cli, tmp_path: Path) -> None:
    image = cli.create("--name", "empty")
    target = tmp_path / "never.img"
    result = cli("image", "download", image["id"], "--file", str(target))
    assert result.code == 1 and "has no data" in result.err
    assert not target.exists()


def test_upload_to_an_active_image_is_a_conflict(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.img"
    source.write_bytes(b"abc")
    image = cli.create("--name", "once", "--disk-format", "raw", "--container-format", "bare",
                       "--file", str(source))
    result = cli("image", "upload", image["id"], "--file", str(source))
    assert result.code == 1 and "Conflict" in result.err


def test_upload_of_a_directory_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    image = cli.create("--name", "dir")
    result = cli("image", "upload", image["id"], "--file", str(tmp_path))
    assert result.code == 2 and "is a directory" in result.err
