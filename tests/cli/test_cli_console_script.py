"""The installed ``glance-domain`` console script: exit codes, pipes, no tracebacks, and tqdm
progress bars when (and only when) a terminal is attached."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import subprocess
from pathlib import Path

from tests.cli.cli_harness import SCRIPT, Console

DATA = os.urandom(300_000)


def test_help_and_usage_errors(console: Console) -> None:
    helped = console("--help", config=False)
    assert helped.returncode == 0 and b"image" in helped.stdout
    bad = console("image", "create", "--visibility", "nope")
    assert bad.returncode == 2
    assert b"invalid choice" in bad.stderr and b"Traceback" not in bad.stderr


def test_domain_error_is_one_line_with_exit_1(console: Console) -> None:
    result = console("image", "show", "11111111-1111-1111-1111-111111111111")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        result.stderr.decode().strip()
    ] and b"Not found" in result.stderr and b"Traceback" not in result.stderr


def test_bad_config_file_exits_non_zero_without_traceback(console: Console, tmp_path: Path) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text("[DEFAULT]\nimage_size_cap = lots\n")
    result = console("--config-file", str(broken), "image", "list", config=False)
    assert result.returncode != 0
    assert b"error:" in result.stderr and b"Traceback" not in result.stderr


def test_pipe_in_and_out(console: Console) -> None:
    created = console("image", "create", "--name", "piped", "--disk-format", "raw",
                      "--container-format", "bare", "-f", "value", "-c", "id")
    assert created.returncode == 0, created.stderr
    image_id = created.stdout.decode().strip()
    uploaded = console("image", "upload", image_id, "-f", "json", input=DATA)
    assert uploaded.returncode == 0, uploaded.stderr
    assert json.loads(uploaded.stdout)["checksum"] == hashlib.md5(DATA).hexdigest()
    downloaded = console("image", "download", image_id)
    assert downloaded.returncode == 0, downloaded.stderr
    assert downloaded.stdout == DATA and downloaded.stderr == b""


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stdin/stdout/stderr on a pseudo-terminal; return the exit code and the screen."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen([str(SCRIPT), *args], stdin=follower, stdout=follower,
                               stderr=follower, cwd=cwd, env=env, close_fds=True)
    os.close(follower)
    screen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        screen.extend(chunk)
    os.close(leader)
    return process.wait(timeout=60), screen.decode(errors="replace")


def test_progress_bars_on_a_terminal(console: Console, tmp_path: Path) -> None:
    source = tmp_path / "disk.img"
    source.write_bytes(DATA)
    config = ["--config-file", str(console.config)]
    code, screen = _run_on_a_terminal(
        [*config, "image", "create", "--name", "tty", "--disk-format", "raw",
         "--container-format", "bare", "--file", str(source), "-f", "value", "-c", "id"],
        tmp_path,
    )
    assert code == 0, screen
    assert "Uploading" in screen and "100%" in screen and "B/s" in screen, screen
    image_id = screen.strip().splitlines()[-1].strip()
    target = tmp_path / "copy.img"
    code, screen = _run_on_a_terminal(
        [*config, "image", "download", image_id, "--file", str(target)], tmp_path
    )
    assert code == 0, screen
    assert "Downloading" in screen and "100%" in screen and "B/s" in screen, screen
    assert target.read_bytes() == DATA
    code, screen = _run_on_a_terminal(
        [*config, "image", "download", image_id, "--file", str(target), "--no-progress"],
        tmp_path,
    )
    assert code == 0 and "Downloading" not in screen


def test_download_refuses_to_write_to_a_terminal(console: Console, tmp_path: Path) -> None:
    created = console("image", "create", "--name", "t", "-f", "value", "-c", "id")
    code, screen = _run_on_a_terminal(
        ["--config-file", str(console.config), "image", "download",
         created.stdout.decode().strip()], tmp_path,
    )
    assert code == 2 and "refusing to write image data to a terminal" in screen


def test_unmigrated_database_is_one_line(console: Console, tmp_path: Path) -> None:
    config = tmp_path / "unmigrated.conf"
    config.write_text(f"[database]\nconnection = sqlite:///{tmp_path / 'empty.sqlite'}\n")
    result = console("--config-file", str(config), "image", "list", config=False)
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "db upgrade" in lines[0], lines
