"""Bad input gives one line on stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_harness import Cli


@pytest.mark.parametrize(
    "argv",
    [
        ["image"],
        ["image", "create", "--visibility", "galactic"],
        ["image", "create", "--protected", "maybe"],
        ["image", "create", "--property", "novalue"],
        ["image", "list", "--limit", "0"],
        ["image", "list", "--sort-key", "colour"],
        ["image", "member", "set", "i", "m", "happy"],
        ["db", "purge", "--age-in-days", "-1"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert "error:" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["image", "show", "00000000-0000-0000-0000-000000000000"], "Not found"),
        (["image", "create", "--disk-format", "floppy"], "Invalid input"),
        (["image", "create", "--property", "status=active"], "Forbidden"),
        (["image", "list", "--marker", "00000000-0000-0000-0000-000000000000"], "Invalid input"),
    ],
)
def test_domain_errors_exit_1_with_one_line(cli: Cli, argv: list[str], prefix: str) -> None:
    result = cli(*argv)
    assert result.code == 1, result
    assert result.err.startswith(f"glance-domain: error: {prefix}"), result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_help_exits_0(cli: Cli) -> None:
    result = cli("image", "create", "--help")
    assert result.code == 0 and "--disk-format" in result.out


def test_missing_config_file_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("--config-file", str(tmp_path / "nope.conf"), "image", "list", config=False)
    assert result.code == 2
    assert "Configuration error" in result.err and "nope.conf" in result.err


def test_missing_upload_file_fails_before_creating_anything(cli: Cli, tmp_path: Path) -> None:
    result = cli("image", "create", "--name", "x", "--file", str(tmp_path / "absent.img"))
    assert result.code == 1 and "absent.img" in result.err
    assert cli.ok("image", "list", "-f", "json").json() == []


def test_sort_options_conflict(cli: Cli) -> None:
    result = cli("image", "list", "--sort", "name", "--sort-key", "name")
    assert result.code == 2 and "either --sort" in result.err


def test_debug_shows_the_traceback(cli: Cli) -> None:
    result = cli("--debug", "image", "show", "00000000-0000-0000-0000-000000000000")
    assert result.code == 1 and "Traceback" in result.err


def test_unknown_column(cli: Cli) -> None:
    image = cli.create("--name", "c")
    result = cli("image", "show", image["id"], "-c", "colour")
    assert result.code == 2 and "No column 'colour'" in result.err


def test_text_that_is_not_unicode_is_invalid_input(cli: Cli) -> None:
    """An argument whose bytes are not UTF-8 reaches Python as lone surrogates
    (surrogateescape): refused as invalid input, nothing created (issue 12)."""
    for argv in (["image", "create", "--name", "\udced\udca0\udc80"],
                 ["image", "create", "--name", "ok", "--property", "k=\udcff"]):
        result = cli(*argv)
        assert result.code == 1, result
        assert "Invalid input: A value is not valid Unicode text." in result.err
        assert "Traceback" not in result.err
    assert cli("image", "list", "-f", "json").json() == []
