"""Operations: oslo.middleware's health check (disable_by_file, the database check),
``http_proxy_to_wsgi`` behind a TLS-terminating proxy, request ids in the request context,
and the request log of ``glance-domain serve`` written by oslo.log to ``log_file``."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import webob
from oslo_context import context as oslo_context

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import SCRIPT

MEMBER = {"X-Identity-Status": "Confirmed", "X-Roles": "member,reader", "X-Project-Id": "p1",
          "X-User-Id": "u1"}


def _app(tmp_path: Path, extra: str = "") -> Any:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n{extra}")
    return bootstrap.build_app(bootstrap.load_config(config_files=[str(path)]))


def _get(app: Any, path: str, method: str = "GET", **headers: str) -> webob.Response:
    return webob.Request.blank(path, method=method, headers=headers).get_response(app)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_health_check_fails_when_the_database_is_down(tmp_path: Path) -> None:
    # a PostgreSQL server that is not there: nothing listens on this port
    app = _app(tmp_path, "[database]\nconnection = postgresql+psycopg://glance@127.0.0.1:"
                         f"{_free_port()}/glance\n")
    down = _get(app, "/healthcheck")
    assert down.status_int == 503
    assert "database unavailable" in down.text
    assert _get(app, "/healthcheck", "HEAD").status_int == 503
    detailed = _get(app, "/healthcheck", Accept="application/json")
    assert detailed.status_int == 503 and "database unavailable" in detailed.json["reasons"]


def test_health_check_is_ok_with_the_database_up(tmp_path: Path) -> None:
    app = _app(tmp_path)
    up = _get(app, "/healthcheck")
    assert (up.status_int, up.body) == (200, b"OK")
    assert _get(app, "/healthcheck", "HEAD").status_int == 204


def test_disable_by_file(tmp_path: Path) -> None:
    flag = tmp_path / "healthcheck_disable"
    app = _app(tmp_path, f"[healthcheck]\ndisable_by_file_path = {flag}\n")
    assert _get(app, "/healthcheck").status_int == 200
    flag.write_text("")
    disabled = _get(app, "/healthcheck")
    assert disabled.status_int == 503 and "DISABLED BY FILE" in disabled.text
    assert _get(app, "/v2/images", **MEMBER).status_int == 200  # the API itself still serves
    flag.unlink()
    assert _get(app, "/healthcheck").status_int == 200


def test_proxy_headers_make_links_https(tmp_path: Path) -> None:
    proxy = {"X-Forwarded-Proto": "https", "Host": "images.example.com"}
    for enabled, scheme in (("true", "https"), ("false", "http")):
        folder = tmp_path / enabled
        folder.mkdir()
        app = _app(folder, f"[oslo_middleware]\nenable_proxy_headers_parsing = {enabled}\n")
        req = webob.Request.blank("/v2/images", method="POST", headers={**MEMBER, **proxy})
        req.json_body = {"name": "behind-a-proxy"}
        created = req.get_response(app)
        assert created.status_int == 201, created.text
        assert created.headers["Location"].startswith(f"{scheme}://images.example.com/v2/"), \
            created.headers["Location"]
        versions = _get(app, "/versions", **proxy).json["versions"]
        assert versions[0]["links"][0]["href"] == f"{scheme}://images.example.com/v2/"


def test_the_request_id_is_the_current_oslo_context_while_a_request_runs(
    tmp_path: Path,
) -> None:
    seen: list[Any] = []
    app = _app(tmp_path)
    inner = app.app  # RequestLog -> HealthcheckOutside

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(oslo_context.get_current())
        return inner(environ, start_response)

    app.app = spy
    given = _get(app, "/v2/images", **MEMBER, **{"X-Openstack-Request-Id": "req-given"})
    assert given.headers["x-openstack-request-id"] == "req-given"
    made = _get(app, "/v2/images", **MEMBER)
    assert [c.request_id for c in seen] == ["req-given", made.headers["x-openstack-request-id"]]


def _request(port: int, method: str, path: str, headers: dict[str, str]
             ) -> tuple[int, Any, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        conn.close()


def test_serve_logs_every_request_with_its_id_to_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "api.log"
    config = tmp_path / "glance-api.conf"
    config.write_text(f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\nworkers = 1\n"
                      f"log_file = {log_file}\n")
    port = _free_port()
    server = subprocess.Popen(
        [str(SCRIPT), "--config-file", str(config), "serve", "--bind-host", "127.0.0.1",
         "--bind-port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        status = None
        for _ in range(300):
            try:
                status, resp, body = _request(
                    port, "GET", "/v2/images?limit=3",
                    {**MEMBER, "X-Openstack-Request-Id": "req-from-test"})
                break
            except (ConnectionError, OSError):
                if server.poll() is not None:
                    break
                time.sleep(0.1)
        assert status == 200, server.communicate(timeout=30)[0].decode()[-3000:]
        assert json.loads(body)["images"] == []
        status, resp, _body = _request(port, "GET", "/v2/images/nope", MEMBER)
        made = resp.headers["x-openstack-request-id"]
        assert status == 404
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output[-3000:]
    lines = log_file.read_text().splitlines()
    access = [line for line in lines if "glance_domain_adapters.wsgi.access" in line]
    assert len(access) == 2, lines
    first, second = access
    assert "req-from-test" in first and '"GET /v2/images?limit=3 HTTP/1.1" status: 200' in first
    assert f"len: {len(body)} time: " in first
    assert made in second and '"GET /v2/images/nope HTTP/1.1" status: 404' in second
    assert any("listening on http://127.0.0.1" in line for line in lines)


def test_health_check_fails_when_a_file_store_directory_is_gone(tmp_path: Path) -> None:
    images = tmp_path / "images"
    app = _app(tmp_path, "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
                         f"[fs]\nfilesystem_store_datadir = {images}\n")
    assert _get(app, "/healthcheck").status_int == 200
    images.rename(tmp_path / "unmounted")
    gone = _get(app, "/healthcheck")
    assert gone.status_int == 503 and "store unavailable" in gone.text
    (tmp_path / "unmounted").rename(images)
    assert _get(app, "/healthcheck").status_int == 200
