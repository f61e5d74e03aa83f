"""Fixtures for the CLI tests (helpers in ``cli_harness``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_harness import Cli, Console, write_config


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def cli(config_file: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(config_file, capsys)


@pytest.fixture
def console(config_file: Path, tmp_path: Path) -> Console:
    return Console(config_file, tmp_path)
