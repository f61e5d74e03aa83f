"""``python3 dev.py ...`` as a user runs it: ``serve`` becomes the server (signals stop it), a
busy port is one line naming ``--bind-port``, and pytest's "no tests collected" passes only
when the tests were picked by hand.

``dev.py`` is run from a copy in a temporary folder whose ``.venv`` links to this test run's
virtual environment and whose install stamps are current, so no installation happens.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

DEV_PY = Path(__file__).resolve().parents[2] / "dev.py"
#: Bound on every wait of these tests (a cold start imports a lot on a busy machine).
WAIT = 120


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"dev_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with dev.py and a ready .venv (this run's bin directory, stamps current)."""
    shutil.copy(DEV_PY, tmp_path / "dev.py")
    venv = tmp_path / ".venv"
    venv.mkdir()
    for entry in Path(sys.prefix).iterdir():  # bin, lib, pyvenv.cfg...: the same environment
        if not entry.name.startswith("."):
            (venv / entry.name).symlink_to(entry)
    dev = _load(tmp_path / "dev.py")
    for kind, extras in dev.EXTRAS.items():
        (venv / f".installed-{kind}").write_text(dev._fingerprint(extras))
    (tmp_path / "serve.conf").write_text("[DEFAULT]\nworkers = 1\n")
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(checkout: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(checkout / "dev.py"), "serve", "--config-file",
         str(checkout / "serve.conf"), "--bind-host", "127.0.0.1", "--bind-port", str(port)],
        cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _wait_answering(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/versions", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet, or busy
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.kill()
    pytest.fail(server.communicate(timeout=30)[0].decode()[-3000:])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_serve_execs_the_server_so_signals_stop_it(checkout: Path, signum: int) -> None:
    port = _free_port()
    server = _serve(checkout, port)
    try:
        _wait_answering(server, port)
        # the process dev.py started *is* the server now (exec), not a parent waiting on it
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"glance-domain") for part in cmdline), cmdline
        server.send_signal(signum)
        output = server.communicate(timeout=WAIT)[0].decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode is not None
    assert _port_is_free(port), "the server still holds the port"
    # the clients' setup, printed: a clouds.yaml for openstack, variables for glance
    assert f"OS_CLIENT_CONFIG_FILE={checkout / '.venv' / 'clouds.yaml'} OS_CLOUD=glance-domain" \
        in output
    assert f"OS_IMAGE_URL=http://127.0.0.1:{port} OS_AUTH_TOKEN=none" in output
    assert f"endpoint: http://127.0.0.1:{port}\n" in (checkout / ".venv/clouds.yaml").read_text()


def test_a_busy_port_is_one_line_naming_bind_port(checkout: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(checkout / "dev.py"), "serve", "--bind-port", str(port)],
            capture_output=True, text=True, timeout=WAIT,
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"glance-domain: error: 127.0.0.1:{port} is already in use (another server?): stop it, "
        f"or serve on another port with --bind-port PORT (e.g. --bind-port {port + 1})\n"
    )
    assert "Can't connect" not in result.stdout


def _pytest_exit(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``dev.py test ARGS`` with the lint steps passing and a test folder holding no test."""
    (checkout / "tests").mkdir()
    (checkout / "tests" / "test_nothing.py").write_text('"""No tests here."""\n')
    (checkout / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"
        "[tool.mypy]\nfiles = ['dev.py']\nignore_missing_imports = true\n"
        "[tool.ruff]\nline-length = 100\n"
        "[tool.importlinter]\nroot_packages = ['pkg']\n"
        "[[tool.importlinter.contracts]]\nname = 'apart'\ntype = 'independence'\n"
        "modules = ['pkg.a', 'pkg.b']\n"
    )
    (checkout / "pkg").mkdir()
    for name in ("__init__", "a", "b"):
        (checkout / "pkg" / f"{name}.py").write_text('"""A module."""\n')
    dev = _load(checkout / "dev.py")  # pyproject.toml changed the fingerprint
    (checkout / ".venv" / ".installed-test").write_text(dev._fingerprint(dev.EXTRAS["test"]))
    return subprocess.run([sys.executable, str(checkout / "dev.py"), "test", *args],
                          cwd=checkout, capture_output=True, text=True, timeout=WAIT)


def test_a_full_run_collecting_no_tests_fails(checkout: Path) -> None:
    result = _pytest_exit(checkout)
    assert result.returncode == 5, (result.stdout[-2000:], result.stderr[-2000:])


def test_a_hand_picked_selection_matching_nothing_passes(checkout: Path) -> None:
    result = _pytest_exit(checkout, "-k", "no_such_test")
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert "no test matched the selection" in result.stdout


def test_docs_builds_the_documentation(checkout: Path) -> None:
    docs = checkout / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text(
        "project = 'p'\nextensions = ['myst_parser']\nsource_suffix = {'.md': 'markdown'}\n"
    )
    (docs / "index.md").write_text("# Title\n\nSome text.\n")
    result = subprocess.run([sys.executable, str(checkout / "dev.py"), "docs"], cwd="/",
                            capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert (docs / "_build" / "html" / "index.html").exists()
    assert "docs built:" in result.stdout
