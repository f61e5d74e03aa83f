"""``glance_domain_adapters.wsgi.wsgi``: the entry point for gunicorn/uwsgi, and generated docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import webob

from glance_domain_adapters.wsgi import wsgi
from tests.platform.conftest import free_port, stop, wait_http

ROOT = Path(__file__).resolve().parents[2]


def _conf(tmp_path: Path) -> Path:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n")
    return path


def test_config_files_from_environment() -> None:
    os.environ[wsgi.CONFIG_ENV] = f"/a.conf{os.pathsep}/b.conf"
    try:
        assert wsgi.config_files_from_environment(["--config-file", "/c.conf",
                                                   "--config-file=/d.conf"]) == [
            "/a.conf", "/b.conf", "/c.conf", "/d.conf"]
    finally:
        del os.environ[wsgi.CONFIG_ENV]


def test_create_app_serves_in_process(tmp_path: Path) -> None:
    app = wsgi.create_app([str(_conf(tmp_path))])
    resp = webob.Request.blank("/v2/images").get_response(app)
    assert resp.status_int == 200
    assert resp.json["images"] == []
    assert (tmp_path / "data" / "glance.sqlite").exists()


def test_external_gunicorn_with_several_workers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, wsgi.CONFIG_ENV: str(_conf(tmp_path))}
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "2",
         "glance_domain_adapters.wsgi.wsgi:application"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    log.close()
    try:
        wait_http(f"http://127.0.0.1:{port}/versions", proc)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v2/images", method="POST",
            data=json.dumps({"name": "g", "disk_format": "raw",
                             "container_format": "bare"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/images", timeout=30) as resp:
            assert [i["name"] for i in json.load(resp)["images"]] == ["g"]
    finally:
        stop(proc)


def test_committed_samples_and_references_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        "run `python tools/gen_docs.py` and commit the result:\n" + result.stdout
        + result.stderr)
