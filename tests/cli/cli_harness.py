"""Helpers for the CLI tests: a real configuration (SQLite + file store in tmp_path).

``cli`` runs ``main(argv)`` in-process with capsys; ``console`` runs the installed
``glance-domain`` console script as a subprocess, with the same configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from glance_domain_adapters.cli.main import main

SCRIPT = Path(sys.executable).parent / "glance-domain"


def write_config(directory: Path) -> Path:
    """A glance-api.conf-style file: SQLite database and file store under ``directory``."""
    path = directory / "glance-domain.conf"
    path.write_text(
        "[DEFAULT]\n"
        f"data_dir = {directory / 'data'}\n"
        "[glance_store]\n"
        "stores = file\n"
        "default_store = file\n"
        f"filesystem_store_datadir = {directory / 'images'}\n"
    )
    return path


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@attrs.define
class Cli:
    """Runs ``glance-domain`` in-process against one configuration."""

    config: Path
    capsys: pytest.CaptureFixture[str]
    gateway_factory: Any = None

    def __call__(self, *argv: str, config: bool = True) -> Result:
        args = ["--config-file", str(self.config), *argv] if config else list(argv)
        self.capsys.readouterr()
        code = main(args, gateway_factory=self.gateway_factory)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *argv: str) -> Result:
        """Run and insist on success (the failure message shows stderr)."""
        result = self(*argv)
        assert result.code == 0, f"{argv} exited {result.code}: {result.err}"
        return result

    def create(self, *argv: str) -> dict[str, Any]:
        image: dict[str, Any] = self.ok("image", "create", "-f", "json", *argv).json()
        return image


@attrs.define
class Console:
    """Runs the installed console script as a subprocess."""

    config: Path
    cwd: Path

    def __call__(
        self, *argv: str, input: bytes | None = None, config: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        assert SCRIPT.exists(), f"console script not installed at {SCRIPT} (pip install -e .)"
        args = ["--config-file", str(self.config), *argv] if config else list(argv)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        return subprocess.run(
            [str(SCRIPT), *args], input=input, capture_output=True, cwd=self.cwd, env=env,
            timeout=120,
        )
