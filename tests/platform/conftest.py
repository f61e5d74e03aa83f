"""Fixtures of the platform tests: a real Keystone, free loopback ports, tmp configurations.

``keystone`` (session scope) runs ``keystone-manage db_sync / fernet_setup / credential_setup /
bootstrap`` on a SQLite database and key repositories in a tmp dir, serves keystone's WSGI
application with gunicorn on 127.0.0.1:<free port> in a subprocess, and creates a project with a
member user and a reader user. It skips (fails under CI=true) when keystone is not installed.
"""

from __future__ import annotations

import http.client
import json
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex[:8]
USER_PASSWORD = "user-" + uuid.uuid4().hex[:8]


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, a test whose dependency is missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[Any], timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers (any HTTP status) or ``proc`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before answering")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to ``proc`` (a process we started) and wait for it."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class JsonHttp:
    """Requests to a server on 127.0.0.1:``port`` (a mixin of the tests' server handles)."""

    port: int

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send ``body`` as JSON (if any); the response's status and decoded JSON (or None)."""
        conn = self.connect()
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            return resp.status, json.loads(text) if text else None
        finally:
            conn.close()


def _no_control_socket() -> list[str]:
    """gunicorn >= 25 opens a control socket at a fixed per-user path; turn it off."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(
        s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


@attrs.frozen
class Keystone:
    """A running Keystone and the identities created in it."""

    url: str  # http://127.0.0.1:<port>/v3
    admin_password: str
    project_id: str
    project_name: str
    member: str
    reader: str
    user_password: str

    def token(self, username: str, password: str, project_name: str) -> dict[str, Any]:
        """A project-scoped token: ``{"id": ..., "body": <token body>}``."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": username, "domain": {"id": "default"},
                                          "password": password}},
                },
                "scope": {"project": {"name": project_name, "domain": {"id": "default"}}},
            }
        }
        req = urllib.request.Request(
            self.url + "/auth/tokens", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return {"id": resp.headers["X-Subject-Token"], "body": json.load(resp)["token"]}

    def authtoken_section(self) -> str:
        """``[keystone_authtoken]`` for keystonemiddleware pointing at this Keystone."""
        base = self.url.rsplit("/v3", 1)[0]
        return (
            "[keystone_authtoken]\n"
            f"www_authenticate_uri = {base}\n"
            f"auth_url = {base}\n"
            "auth_type = password\n"
            "username = admin\n"
            f"password = {self.admin_password}\n"
            "project_name = admin\n"
            "user_domain_id = default\n"
            "project_domain_id = default\n"
            "service_token_roles_required = true\n"
        )


def _api(url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    req = urllib.request.Request(
        url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
    return json.loads(text) if text else {}


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystone]:
    manage = BIN / "keystone-manage"
    if not manage.exists():
        unavailable("keystone is not installed in this environment (pip install keystone)")
    if shutil.which("gunicorn", path=str(BIN)) is None:
        unavailable("gunicorn is not installed in this environment")
    root = tmp_path_factory.mktemp("keystone")
    from cryptography.fernet import Fernet

    for sub in ("fernet", "credential"):
        # What fernet_setup / credential_setup write (a staged key 0 and a primary key 1),
        # without two more keystone-manage processes.
        (root / sub).mkdir(mode=0o700)
        for index in ("0", "1"):
            (root / sub / index).write_bytes(Fernet.generate_key())
    conf = root / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"log_file = {root / 'keystone.log'}\n"
        "[database]\n"
        f"connection = sqlite:///{root / 'keystone.db'}\n"
        "[fernet_tokens]\n"
        f"key_repository = {root / 'fernet'}\n"
        "[fernet_receipts]\n"
        f"key_repository = {root / 'fernet'}\n"
        "[credential]\n"
        f"key_repository = {root / 'credential'}\n"
        "[cache]\nenabled = false\n"
        "[identity]\npassword_hash_rounds = 4\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3"
    log = open(root / "manage.log", "wb")  # noqa: SIM115 - closed below
    steps = [
        ["db_sync"],
        ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-public-url", url,
         "--bootstrap-internal-url", url, "--bootstrap-admin-url", url,
         "--bootstrap-region-id", "RegionOne"],
    ]
    for step in steps:
        result = subprocess.run([str(manage), "--config-file", str(conf), *step],
                                stdout=log, stderr=subprocess.STDOUT, timeout=180)
        if result.returncode != 0:
            log.close()
            raise RuntimeError(f"keystone-manage {step[0]} failed, see {root / 'manage.log'}")
    log.close()
    # keystone parses sys.argv with oslo.config: hide gunicorn's arguments from it.
    (root / "keystone_wsgi.py").write_text(
        "import sys\nsys.argv = sys.argv[:1]\n"
        "from keystone.server import wsgi\n"
        "application = wsgi.initialize_public_application()\n"
    )
    env = {**os.environ, "OS_KEYSTONE_CONFIG_DIR": str(root)}
    server_log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--chdir", str(root), *_no_control_socket(),
         "keystone_wsgi:application"],
        env=env, stdout=server_log, stderr=subprocess.STDOUT, cwd=root,
    )
    try:
        wait_http(url, proc)
        admin_token = Keystone(url, ADMIN_PASSWORD, "", "", "", "", "").token(
            "admin", ADMIN_PASSWORD, "admin")["id"]
        project_name = "demo-" + uuid.uuid4().hex[:6]
        project = _api(url, admin_token, "POST", "/projects",
                       {"project": {"name": project_name, "domain_id": "default"}})["project"]
        roles = {r["name"]: r["id"] for r in _api(url, admin_token, "GET", "/roles")["roles"]}
        names = {}
        for role in ("member", "reader"):
            name = f"{role}-{uuid.uuid4().hex[:6]}"
            created = _api(url, admin_token, "POST", "/users", {"user": {
                "name": name, "domain_id": "default", "password": USER_PASSWORD}})["user"]
            _api(url, admin_token, "PUT",
                 f"/projects/{project['id']}/users/{created['id']}/roles/{roles[role]}")
            names[role] = name
        yield Keystone(url, ADMIN_PASSWORD, project["id"], project_name, names["member"],
                       names["reader"], USER_PASSWORD)
    finally:
        stop(proc, signal.SIGINT)  # gunicorn: quick shutdown
        server_log.close()


@contextmanager
def file_store_server(tmp: Path, defaults: str = "") -> Iterator[tuple[int, subprocess.Popen[Any]]]:
    """``glance-domain serve`` (the installed console script) on 127.0.0.1 and a free port,
    with SQLite and a file store in ``tmp`` and ``defaults`` added to ``[DEFAULT]``; its port
    and process, stopped at the end. The output goes to ``tmp/server.log``."""
    cli = Path(sys.executable).parent / "glance-domain"
    if not cli.exists():
        pytest.fail("the glance-domain console script is not installed (pip install -e .)")
    port = free_port()
    conf = tmp / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\ndata_dir = {tmp / 'data'}\n"
        f"{defaults}enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp / 'images'}\n"
    )
    with open(tmp / "server.log", "wb") as log:
        proc = subprocess.Popen([str(cli), "--config-file", str(conf), "serve"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        wait_http(f"http://127.0.0.1:{port}/versions", proc)
        yield port, proc
    finally:
        stop(proc)
