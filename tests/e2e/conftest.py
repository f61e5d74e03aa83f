"""End-to-end fixtures: a real glance-domain server (subprocess) driven by real clients.

The session starts ``glance-domain serve`` with a throw-away configuration (SQLite database and
a file store named ``fs`` under a temporary directory, 127.0.0.1, a free port, one worker) and
stops it at the end.

To check that the tests themselves are right, run them against a real Glance instead::

    GLANCE_E2E_URL=http://127.0.0.1:9393 .venv/bin/pytest tests/e2e -q

That server must trust keystone-style identity headers (X-Roles, X-Project-Id, X-User-Id,
X-Identity-Status) without validating a token and treat a request without any identity as a
local admin (see docs/conformance.md).

Every session uses its own project ids and a unique name prefix, so runs never see each
other's images even on a long-lived server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SERVER_START_TIMEOUT = 60.0
ENV_URL = "GLANCE_E2E_URL"


def _close_stdin() -> None:
    """Runs in the child before exec: no standard input at all."""
    os.close(0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _console_script(name: str) -> str:
    """The console script installed next to this interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"console script {name!r} not found next to {sys.executable} or on PATH")
    return found


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a server started by a fixture, SIGKILL if it is still there after 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(
                f"glance-domain serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url + "/versions", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(0.1)
    pytest.fail(f"server at {url} did not answer within {SERVER_START_TIMEOUT}s: {last}\n"
                f"{log.read_text()[-4000:] if log.exists() else ''}")


SERVER_CONFIG = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 2
worker_threads = 4
data_dir = {data}
enabled_backends = fs:file
image_size_cap = 2097152

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {data}/images
"""


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the server under test (ours, started here, unless GLANCE_E2E_URL is set)."""
    external = os.environ.get(ENV_URL)
    if external:
        url = external.rstrip("/")
        _wait_until_up(url, None, Path("/nonexistent"))
        yield url
        return
    root = tmp_path_factory.mktemp("e2e-server")
    port = _free_port()
    conf = root / "glance-api.conf"
    conf.write_text(SERVER_CONFIG.format(port=port, data=root / "data"))
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        stop_server(proc)


class Identity:
    """A caller: project, user and roles sent as keystonemiddleware-style headers."""

    def __init__(self, project: str, user: str, roles: str) -> None:
        self.project = project
        self.user = user
        self.roles = roles

    @property
    def headers(self) -> dict[str, str]:
        return {
            "X-Identity-Status": "Confirmed",
            "X-Project-Id": self.project,
            "X-Tenant-Id": self.project,
            "X-User-Id": self.user,
            "X-Roles": self.roles,
        }


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per session: prefixes project ids and image names."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def identities(run_id: str) -> dict[str, Identity]:
    return {
        "alice": Identity(f"proja-{run_id}", f"alice-{run_id}", "member,reader"),
        "bob": Identity(f"projb-{run_id}", f"bob-{run_id}", "member,reader"),
        "reader": Identity(f"proja-{run_id}", f"rita-{run_id}", "reader"),
        "admin": Identity(f"admin-{run_id}", f"root-{run_id}", "admin,member,reader"),
    }


@pytest.fixture(scope="session")
def glance_client(server_url: str, identities: dict[str, Identity]) -> Callable[[str], Any]:
    """``glance_client("alice")``: a python-glanceclient v2 Client acting as that identity."""
    import glanceclient

    cache: dict[str, Any] = {}

    def make(who: str) -> Any:
        if who not in cache:
            client = glanceclient.Client("2", endpoint=server_url, token="e2e-token")
            client.http_client.session.headers.update(identities[who].headers)
            cache[who] = client
        return cache[who]

    return make


@pytest.fixture(scope="session")
def sdk(server_url: str, identities: dict[str, Identity]) -> Callable[[str], Any]:
    """``sdk("bob")``: an openstacksdk Connection (no keystone) acting as that identity."""
    import openstack
    from keystoneauth1 import noauth
    from keystoneauth1 import session as ks_session

    cache: dict[str, Any] = {}

    def make(who: str) -> Any:
        if who not in cache:
            sess = ks_session.Session(
                auth=noauth.NoAuth(endpoint=server_url),
                additional_headers=identities[who].headers,
            )
            cache[who] = openstack.connection.Connection(
                session=sess, image_endpoint_override=server_url, region_name="RegionOne"
            )
        return cache[who]

    return make


@pytest.fixture(scope="session")
def run_cli(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``run_cli("glance", "image-list")`` / ``run_cli("openstack", "image", "list")``.

    Both CLIs run without keystone: ``glance --os-image-url URL --os-auth-token x`` and
    ``openstack --os-auth-type none --os-endpoint URL``. They send no identity headers, so
    the server treats them as its local admin.
    """
    workdir = tmp_path_factory.mktemp("e2e-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["HOME"] = str(workdir)  # no clouds.yaml or cached state from the user

    def run(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if tool == "glance":
            base = [
                _console_script("glance"),
                "--os-image-url", server_url,
                "--os-auth-token", "e2e-token",
                "--os-image-api-version", "2",
            ]
        elif tool == "openstack":
            base = [
                _console_script("openstack"),
                "--os-auth-type", "none",
                "--os-endpoint", server_url,
                "--os-image-api-version", "2",
            ]
        else:
            raise ValueError(tool)
        # stdin closed, as in cron (and in CI): the glance CLI treats any other non-tty
        # stdin as image data and then refuses "--file and stdin" together.
        proc = subprocess.run(
            [*base, *args], capture_output=True, text=True, env=env, cwd=workdir, timeout=120,
            stdin=subprocess.DEVNULL, preexec_fn=_close_stdin,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"{tool} {' '.join(args)} failed ({proc.returncode}):\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    return run
