"""The shell examples of docs/cli.md run, in order, in an empty folder with the default
configuration (SQLite and files in ./data), so the CLI page never drifts from the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.docs.docblocks import DOCS, page_blocks

CLI_PAGE = DOCS / "cli.md"


def script_of(page: Path) -> str:
    parts = ["set -euo pipefail"]
    for block in page_blocks(page, "shell"):
        if not block.skipped:
            parts.append(f"echo '### {page.name}:{block.line}' >&2")
            parts.append(block.code)
    return "\n".join(parts) + "\n"


def test_cli_page_examples_run(tmp_path: Path) -> None:
    script = script_of(CLI_PAGE)
    assert script.count("glance-domain ") >= 20  # the page really is exercised
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    out = result.stdout
    assert "exit code 1" in out and "exit code 2" in out
    assert "shared-one" in out  # project-b saw the accepted share
    assert "renamed" in out
    assert "Traceback" not in result.stderr
    assert (tmp_path / "data").is_dir()


def test_a_failing_shell_example_fails(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("```shell\nglance-domain image show missing-id\necho unreachable\n```\n")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(["bash", "-c", script_of(page)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "unreachable" not in result.stdout
