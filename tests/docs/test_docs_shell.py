"""Every shell block of README.md and docs/*.md runs, exactly as written, in the test suite.

Each page's ``shell``/``sh``/``bash`` blocks run in order as one bash script (``set -euo
pipefail``: the first failing command fails the test) in a fresh empty folder, against a fresh
server started there with the default configuration (SQLite and files in ./data, which the
in-process ``glance-domain image ...`` commands share). The folder looks like a checkout after
``python3 dev.py serve``: ``.venv`` is this test run's environment and ``.venv/clouds.yaml`` is
what ``dev.py serve`` writes. The one change made to the text: the server listens on a free
port, so ``127.0.0.1:9292`` becomes ``127.0.0.1:<that port>``.

A block that cannot run here (a production host, a real Glance, a benchmark, a command that
starts a server or the whole test suite) is marked ``<!-- no-test: REASON -->``; those blocks
are counted per page in ``NOT_RUN`` and listed with their reasons, so a block is never left
out silently.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.docblocks import DOCS, SHELL_LANGUAGES, blocks, page_blocks, pages

ROOT = DOCS.parent
#: The address the docs use, replaced by the test server's.
DOCUMENTED_ADDRESS = "127.0.0.1:9292"
#: Blocks marked ``<!-- no-test: ... -->``, per page (shell and python blocks alike). Adding a
#: marker means changing this count too: leaving an example untested is a decision.
NOT_RUN = {
    "README.md": 1,
    "api-v1.md": 1,
    "benchmarks.md": 5,
    "cli.md": 2,
    "configuration.md": 2,
    "conformance.md": 4,
    "deployment.md": 2,
    "image-cache.md": 1,
    "integrity.md": 1,
    "plugins.md": 2,
    "quickstart.md": 1,
    "scrubber.md": 1,
    "stores.md": 7,
}
#: Lines a page's output must contain (its examples really did what they say).
EXPECTED_OUTPUT = {
    "cli.md": ["exit code 1", "exit code 2", "shared-one", "renamed", "\"hits\": 0"],
    "README.md": ["cirros-3", "status"],
    "quickstart.md": ["cirros", "member_id"],
    "scrubber.md": ['"images": 1'],
}
#: Bound on a page's script (cli.md runs some 40 commands, each starting Python).
PAGE_TIMEOUT = 600


def _runnable(page: Path) -> bool:
    return any(not b.skipped for b in page_blocks(page, SHELL_LANGUAGES))


SHELL_PAGES = [p for p in pages() if _runnable(p)]


def script_of(page: Path, address: str = DOCUMENTED_ADDRESS) -> str:
    """The page's runnable shell blocks as one bash script (``address`` for the server's)."""
    parts = ["set -euo pipefail"]
    for block in page_blocks(page, SHELL_LANGUAGES):
        if not block.skipped:
            parts.append(f"echo '### {page.name}:{block.line}' >&2")
            parts.append(block.code.replace(DOCUMENTED_ADDRESS, address))
    return "\n".join(parts) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    """No OS_* variables or clouds.yaml of the person running the tests; this run's bin first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIRTUAL_ENV"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["HOME"] = str(home)
    return env


def _fake_checkout_venv(folder: Path, endpoint: str) -> None:
    """``.venv`` as ``python3 dev.py serve`` leaves it: this environment, and clouds.yaml."""
    venv = folder / ".venv"
    venv.mkdir()
    for entry in Path(sys.prefix).iterdir():
        if not entry.name.startswith("."):
            (venv / entry.name).symlink_to(entry)
    spec = importlib.util.spec_from_file_location("dev_for_docs", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    dev.VENV = venv
    dev.write_clouds_yaml(endpoint)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A fresh folder and a fresh server serving it (``./data``); yields (folder, address)."""
    folder = tmp_path / "work"
    folder.mkdir()
    (tmp_path / "home").mkdir()
    config = tmp_path / "server.conf"
    config.write_text("[DEFAULT]\nworkers = 1\n")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    _fake_checkout_venv(folder, f"http://{address}")
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "glance-domain"), "--config-file", str(config),
         "serve", "--bind-host", "127.0.0.1", "--bind-port", str(port)],
        cwd=folder, env=_environment(tmp_path / "home"), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/versions", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet, or busy
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "server.log").read_text()[-3000:])
                time.sleep(0.2)
        yield folder, address
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.parametrize("page", SHELL_PAGES, ids=lambda p: p.name)
def test_shell_examples_run_as_written(page: Path, server: tuple[Path, str]) -> None:
    folder, address = server
    result = subprocess.run(
        ["bash", "-c", script_of(page, address)], cwd=folder,
        env=_environment(folder.parent / "home"), capture_output=True, text=True,
        timeout=PAGE_TIMEOUT,
    )
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for expected in EXPECTED_OUTPUT.get(page.name, []):
        assert expected in result.stdout, (expected, result.stdout[-3000:])


def test_the_shell_pages_are_found() -> None:
    names = {p.name for p in SHELL_PAGES}
    assert {"README.md", "quickstart.md", "cli.md", "database.md"} <= names
    assert script_of(DOCS / "cli.md").count("glance-domain ") >= 20  # really exercised


def test_blocks_not_run_are_marked_with_a_reason_and_counted() -> None:
    listing: dict[str, list[str]] = {}
    for page in pages():
        for block in blocks(page.read_text(encoding="utf-8")):
            if block.skipped:
                assert block.reason, f"{page.name}:{block.line}: <!-- no-test: REASON --> " \
                    "needs its reason"
                listing.setdefault(page.name, []).append(f"{block.line}: {block.reason}")
    counts = {name: len(lines) for name, lines in listing.items()}
    report = "\n".join(f"{name}:{line}" for name, lines in listing.items() for line in lines)
    assert counts == NOT_RUN, f"blocks not run (update NOT_RUN deliberately):\n{report}"


def test_every_block_declares_its_language() -> None:
    """An untagged block could be shell that nothing runs: each says what it is."""
    untagged = [f"{page.name}:{block.line}" for page in pages()
                for block in blocks(page.read_text(encoding="utf-8")) if not block.language]
    assert not untagged, f"fenced blocks without a language: {untagged}"


def test_a_failing_shell_example_fails(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("```shell\nglance-domain image show missing-id\necho unreachable\n```\n")
    result = subprocess.run(["bash", "-c", script_of(page)], cwd=tmp_path,
                            env=_environment(tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and "unreachable" not in result.stdout


def test_the_documented_address_is_replaced(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\ncurl http://127.0.0.1:9292/versions\n```\n")
    assert "curl http://127.0.0.1:1234/versions" in script_of(page, "127.0.0.1:1234")
