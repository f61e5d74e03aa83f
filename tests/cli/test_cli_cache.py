"""``glance-domain cache ...`` in-process on a real configuration (SQLite + file store + an
image cache directory), and the configuration checks of the cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import Cli, write_config


@pytest.fixture
def cache_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    config = write_config(tmp_path)
    text = config.read_text().replace(
        "[glance_store]", f"image_cache_dir = {tmp_path / 'cache'}\n[glance_store]")
    config.write_text(text)
    return Cli(config, capsys)


def _image(cli: Cli, tmp_path: Path, data: bytes) -> str:
    src = tmp_path / f"src-{len(data)}"
    src.write_bytes(data)
    image = cli.create("--name", "c", "--disk-format", "raw", "--container-format", "bare",
                       "--file", str(src))
    return str(image["id"])


def test_queue_prefetch_list_delete(cache_cli: Cli, tmp_path: Path) -> None:
    data = os.urandom(5000)
    image_id = _image(cache_cli, tmp_path, data)
    assert cache_cli.ok("cache", "queue", image_id, "-f", "json").json() == {
        "queued": [image_id]}
    assert cache_cli.ok("cache", "queue", image_id, "-f", "json").json() == {"queued": []}
    assert cache_cli.ok("cache", "list", "--queued", "-f", "json").json() == [
        {"image_id": image_id}]
    assert cache_cli.ok("cache", "prefetch", "-f", "json").json() == {"cached": 1, "failed": 0}
    [record] = cache_cli.ok("cache", "list", "-f", "json").json()
    assert record["image_id"] == image_id and record["size"] == len(data)
    assert (tmp_path / "cache" / image_id).read_bytes() == data
    table = cache_cli.ok("cache", "list").out
    assert image_id in table and "Last Accessed" in table
    cache_cli.ok("cache", "delete", image_id)
    assert cache_cli.ok("cache", "list", "-f", "json").json() == []
    assert not (tmp_path / "cache" / image_id).exists()


def test_queue_refuses_images_without_data(cache_cli: Cli) -> None:
    image = cache_cli.create("--name", "empty")
    result = cache_cli("cache", "queue", image["id"])
    assert result.code == 1 and "only images with status active" in result.err
    missing = cache_cli("cache", "queue", "00000000-0000-4000-8000-000000000000")
    assert missing.code == 1 and "Not found" in missing.err


def test_prune_clear_and_clean(cache_cli: Cli, tmp_path: Path) -> None:
    ids = [_image(cache_cli, tmp_path, os.urandom(1000 + n)) for n in range(3)]
    for image_id in ids:
        cache_cli.ok("cache", "queue", image_id)
    cache_cli.ok("cache", "prefetch")
    assert cache_cli.ok("cache", "prune", "--max-size", "1500", "-f", "json").json() == {
        "total_files_pruned": 2, "total_bytes_pruned": 2001}
    assert len(cache_cli.ok("cache", "list", "-f", "json").json()) == 1
    stalled = tmp_path / "cache" / "incomplete" / "x.1"
    stalled.write_bytes(b"half")
    os.utime(stalled, (1, 1))
    cleaned = cache_cli.ok("cache", "clean", "-f", "json").json()
    assert cleaned["stalled"] == 1 and not stalled.exists()
    assert cache_cli.ok("cache", "clear", "-f", "json").json() == {
        "cache_deleted": 1, "queue_deleted": 0}


def test_cache_commands_need_a_cache_directory(cli: Cli) -> None:
    result = cli("cache", "list")
    assert result.code == 1 and "image_cache_dir" in result.err


def test_a_caching_flavor_needs_a_cache_directory(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text() + "[paste_deploy]\nflavor = keystone+cachemanagement\n")
    conf = bootstrap.load_config([], [str(config)])
    with pytest.raises(ValueError, match="image_cache_dir is not set"):
        bootstrap.build_image_cache(conf)


def test_flavors_that_serve_from_the_cache(tmp_path: Path) -> None:
    from glance_domain_adapters import config as cfg

    for flavor, serves, keystone in (("keystone+cachemanagement", True, True),
                                     ("keystone+caching", True, True),
                                     ("cachemanagement", True, False),
                                     ("caching", True, False),
                                     ("keystone", False, True), ("", False, False)):
        path = write_config(tmp_path)
        path.write_text(path.read_text() + f"[paste_deploy]\nflavor = {flavor}\n")
        conf = bootstrap.load_config([], [str(path)])
        assert cfg.caching_flavor(conf) is serves, flavor
        assert (cfg.auth_flavor(conf) == "keystone") is keystone, flavor


def test_queue_and_delete_take_names_and_delete_takes_a_deleted_images_id(
    cache_cli: Cli, tmp_path: Path
) -> None:
    image_id = _image(cache_cli, tmp_path, os.urandom(3000))  # named "c"
    assert cache_cli.ok("cache", "queue", "c", "-f", "json").json() == {"queued": [image_id]}
    cache_cli.ok("cache", "prefetch")
    cache_cli.ok("cache", "delete", "c")
    assert cache_cli.ok("cache", "list", "-f", "json").json() == []
    cache_cli.ok("cache", "queue", "c")
    cache_cli.ok("cache", "prefetch")
    cache_cli.ok("image", "delete", image_id)
    cache_cli.ok("cache", "delete", image_id)  # no image of that id any more: still removed
    assert not (tmp_path / "cache" / image_id).exists()
