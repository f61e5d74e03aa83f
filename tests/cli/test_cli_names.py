"""Images named by name or id in every ``glance-domain image`` command (issue 21): ambiguous
names are refused with the candidates, every not-found reads the same, ``create --file``
cleans up after a failed upload, and a format mismatch says what to pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.cli_harness import Cli

NOT_FOUND = "glance-domain: error: Not found: no image with name or ID '{}'\n"


def test_every_image_command_takes_a_name(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "disk.raw"
    data.write_bytes(b"x" * 4096)
    image = cli.create("--name", "named", "--disk-format", "raw", "--container-format", "bare")
    assert cli.ok("image", "show", "named", "-f", "json").json()["id"] == image["id"]
    cli.ok("image", "upload", "named", "--file", str(data), "--no-progress")
    cli.ok("image", "download", "named", "--file", str(tmp_path / "copy"), "--no-progress")
    assert (tmp_path / "copy").read_bytes() == data.read_bytes()
    updated = cli.ok("image", "update", "named", "--min-ram", "64", "-f", "json").json()
    assert updated["min_ram"] == 64
    assert cli.ok("image", "tag", "add", "named", "t1", "-f", "json").json()["tags"] == ["t1"]
    cli.ok("image", "tag", "remove", "named", "t1")
    cli.ok("image", "update", "named", "--visibility", "shared")
    member = cli.ok("image", "member", "add", "named", "project-b", "-f", "json").json()
    assert member["image_id"] == image["id"]
    assert len(cli.ok("image", "member", "list", "named", "-f", "json").json()) == 1
    cli.ok("image", "member", "show", "named", "project-b")
    accepted = cli.ok("image", "member", "set", "named", "project-b", "accepted",
                      "--os-project-id", "project-b", "-f", "json").json()
    assert accepted["status"] == "accepted"
    cli.ok("image", "member", "remove", "named", "project-b")
    cli.ok("image", "deactivate", "named")
    assert cli.ok("image", "reactivate", "named", "-f", "json").json()["status"] == "active"
    cli.ok("image", "delete", "named")
    assert cli("image", "show", image["id"]).err == NOT_FOUND.format(image["id"])


def test_an_id_wins_over_a_name_and_names_are_exact(cli: Cli) -> None:
    first = cli.create("--name", "first")
    cli.create("--name", first["id"])  # a name that looks like the other image's id
    assert cli.ok("image", "show", first["id"], "-f", "json").json()["name"] == "first"
    assert cli("image", "show", "firs").err == NOT_FOUND.format("firs")


def test_an_ambiguous_name_is_refused_listing_the_candidates(cli: Cli) -> None:
    one = cli.create("--name", "twin")
    two = cli.create("--name", "twin")
    for argv in (["image", "show", "twin"], ["image", "delete", "twin"],
                 ["image", "member", "list", "twin"]):
        result = cli(*argv)
        assert result.code == 1, argv
        assert "More than one image is named 'twin'" in result.err
        assert one["id"] in result.err and two["id"] in result.err
    assert len(cli.ok("image", "list", "-f", "json").json()) == 2  # nothing was deleted


def test_one_wording_for_not_found_across_commands(cli: Cli, tmp_path: Path) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    data = tmp_path / "d"
    data.write_bytes(b"d")
    commands = [
        ["image", "show", missing], ["image", "update", missing, "--name", "n"],
        ["image", "delete", missing], ["image", "deactivate", missing],
        ["image", "upload", missing, "--file", str(data)],
        ["image", "download", missing, "--file", str(tmp_path / "out")],
        ["image", "tag", "add", missing, "t"], ["image", "member", "list", missing],
        ["image", "member", "add", missing, "p"], ["image", "member", "show", missing, "p"],
        ["image", "show", "no-such-name"],
    ]
    for argv in commands:
        result = cli(*argv)
        assert result.code == 1, argv
        assert result.err == NOT_FOUND.format(argv[-1] if argv[-1] == "no-such-name"
                                              else missing), argv


def test_a_private_image_of_another_project_is_not_found_by_name(cli: Cli) -> None:
    cli.create("--name", "secret", "--visibility", "private")
    result = cli("image", "show", "secret", "--os-project-id", "other")
    assert result.err == NOT_FOUND.format("secret")


def _random_file(tmp_path: Path) -> Path:
    path = tmp_path / "random.img"
    path.write_bytes(os.urandom(65536))
    return path


def test_create_with_a_failing_upload_deletes_the_image(cli: Cli, tmp_path: Path) -> None:
    result = cli("image", "create", "--name", "broken", "--disk-format", "qcow2",
                 "--container-format", "bare", "--file", str(_random_file(tmp_path)))
    assert result.code == 1
    assert "was deleted (--keep-on-failure keeps it)" in result.err
    assert cli.ok("image", "list", "-f", "json").json() == []


def test_keep_on_failure_keeps_the_queued_image(cli: Cli, tmp_path: Path) -> None:
    result = cli("image", "create", "--name", "kept", "--disk-format", "qcow2",
                 "--container-format", "bare", "--file", str(_random_file(tmp_path)),
                 "--keep-on-failure")
    assert result.code == 1 and "is kept (--keep-on-failure)" in result.err
    [image] = cli.ok("image", "list", "-f", "json").json()
    assert image["name"] == "kept" and image["status"] == "queued"


@pytest.mark.parametrize("command", ["create", "upload"])
def test_a_format_mismatch_says_what_was_found_and_what_to_pass(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    data = str(_random_file(tmp_path))
    if command == "create":
        result = cli("image", "create", "--name", "q", "--disk-format", "qcow2",
                     "--container-format", "bare", "--file", data)
    else:
        cli.create("--name", "q", "--disk-format", "qcow2", "--container-format", "bare")
        result = cli("image", "upload", "q", "--file", data)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "glance-domain: error: Invalid image data: the data is not a qcow2 image (it looks "
        "like raw); pass --disk-format raw if that is what it is, or upload a real qcow2 file"
    )


def test_serve_help_lists_only_serving_options(cli: Cli) -> None:
    result = cli("serve", "--help", config=False)
    assert result.code == 0
    for option in ("--bind-host", "--bind-port", "--config-file", "--debug"):
        assert option in result.out
    for option in ("--format", "--column", "--os-project-id", "--os-user-id", "--os-roles"):
        assert option not in result.out


def test_hidden_and_other_projects_community_images_are_found_by_name(cli: Cli) -> None:
    hidden = cli.create("--name", "hid", "--hidden", "True")
    assert cli.ok("image", "show", "hid", "-f", "json").json()["id"] == hidden["id"]
    community = cli.create("--name", "comm", "--visibility", "community",
                           "--os-project-id", "p1")
    shown = cli.ok("image", "show", "comm", "--os-project-id", "p2", "-f", "json").json()
    assert shown["id"] == community["id"]


def test_verify_takes_names(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "d.raw"
    data.write_bytes(b"v" * 2048)
    image = cli.create("--name", "checked", "--disk-format", "raw", "--container-format",
                       "bare", "--file", str(data))
    result = cli.ok("image", "verify", "checked", "-f", "json")
    [row] = result.json()
    assert row["id"] == image["id"] and row["outcome"] == "ok"
    assert cli("image", "verify", "nope").err == NOT_FOUND.format("nope")
