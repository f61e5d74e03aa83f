"""Third-party store drivers served by ``glance-domain serve`` from a configuration file alone.

Two plugin packages installed in the test environment (``examples/example_store_plugin`` and
the test-only ``tests/plugins/chunked_store_plugin``) are named in ``enabled_backends`` (each
with its own options in its backend's section) and, in single-store mode, in
``[glance_store] stores``/``default_store``; images are uploaded to each, read back whole and
by ``Range``, and deleted, over HTTP. A store type nobody installed stops ``serve`` with a
message listing the installed types.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_store_plugins import available_drivers
from tests.e2e.conftest import _console_script, _free_port, _wait_until_up, stop_server

PLUGINS = ("example", "chunked")

MULTI_STORE = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 1
data_dir = {data}
enabled_backends = shelf:example, parts:chunked, local:filesystem

[glance_store]
default_backend = parts

[shelf]
example_store_root = {data}/shelf

[parts]
chunked_store_root = {data}/parts
chunked_store_chunk_size = 1000
chunked_store_token = hunter2-token
"""

SINGLE_STORE = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 1
data_dir = {data}

[glance_store]
stores = {store}, http
default_store = {store}
example_store_root = {data}/shelf
chunked_store_root = {data}/parts
chunked_store_chunk_size = 777
"""


def _require_plugins() -> None:
    missing = [name for name in PLUGINS if name not in available_drivers()]
    if missing:
        pytest.fail(f"store plugin(s) {', '.join(missing)} not installed in the test "
                    "environment (python3 dev.py test installs them)")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(template: str, **values: str) -> str:
        _require_plugins()
        port = _free_port()
        conf = tmp_path / f"glance-api-{len(procs)}.conf"
        conf.write_text(template.format(port=port, data=tmp_path / "data", **values))
        log = tmp_path / f"server-{len(procs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
            )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, proc, log)
        return url

    yield start
    for proc in procs:
        stop_server(proc)


def _call(method: str, url: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _round_trip(url: str, backend: str | None, data: bytes) -> dict[str, object]:
    """Create, upload (to ``backend``), check, Range-read and delete one image."""
    status, _, body = _call("POST", f"{url}/v2/images", json.dumps(
        {"name": "plugin-image", "disk_format": "raw", "container_format": "bare"}).encode(),
        {"Content-Type": "application/json"})
    assert status == 201, body
    image_id = json.loads(body)["id"]
    headers = {"Content-Type": "application/octet-stream"}
    if backend:
        headers["X-Image-Meta-Store"] = backend
    status, _, body = _call("PUT", f"{url}/v2/images/{image_id}/file", data, headers)
    assert status == 204, body
    status, _, body = _call("GET", f"{url}/v2/images/{image_id}")
    image = json.loads(body)
    assert image["status"] == "active" and image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    status, _, body = _call("GET", f"{url}/v2/images/{image_id}/file")
    assert status == 200 and body == data
    status, headers_out, body = _call("GET", f"{url}/v2/images/{image_id}/file",
                                      headers={"Range": "bytes=1500-2600"})
    assert status == 206, body
    assert body == data[1500:2601]
    assert headers_out["Content-Range"] == f"bytes 1500-2600/{len(data)}"
    status, _, body = _call("GET", f"{url}/v2/images/{image_id}/file",
                            headers={"Range": f"bytes={len(data) - 5}-"})
    assert status == 206 and body == data[-5:]
    status, _, _ = _call("DELETE", f"{url}/v2/images/{image_id}")
    assert status == 204
    status, _, _ = _call("GET", f"{url}/v2/images/{image_id}")
    assert status == 404
    return image


def test_plugins_as_named_backends(serve: object, tmp_path: Path) -> None:
    url = serve(MULTI_STORE)  # type: ignore[operator]
    status, _, body = _call("GET", f"{url}/v2/info/stores")
    assert status == 200
    stores = {s["id"]: s for s in json.loads(body)["stores"]}
    assert set(stores) == {"shelf", "parts", "local"} and stores["parts"].get("default")
    data = os.urandom(10_000)
    for backend in ("shelf", "parts", None):
        image = _round_trip(url, backend, data)
        assert image["stores"] == (backend or "parts")
    parts = tmp_path / "data" / "parts"
    assert not list((parts / "index").iterdir()), "deleted image left its index entry"
    assert not list((parts / "blobs").iterdir()), "deleted image left its data"
    assert not list((tmp_path / "data" / "shelf").iterdir())


@pytest.mark.parametrize("store", PLUGINS)
def test_plugin_as_the_single_store(serve: object, tmp_path: Path, store: str) -> None:
    url = serve(SINGLE_STORE, store=store)  # type: ignore[operator]
    _round_trip(url, None, os.urandom(5_000))
    root = tmp_path / "data" / ("shelf" if store == "example" else "parts")
    assert root.is_dir(), "the plugin's own option in [glance_store] was not used"


def test_unknown_store_type_names_the_installed_ones(tmp_path: Path) -> None:
    _require_plugins()
    conf = tmp_path / "glance-api.conf"
    conf.write_text(f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {_free_port()}\n"
                    f"data_dir = {tmp_path}\nenabled_backends = fast:redis\n"
                    "[glance_store]\ndefault_backend = fast\n")
    result = subprocess.run(
        [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "unknown store type 'redis'" in result.stderr
    assert "installed types: " in result.stderr
    for name in (*PLUGINS, "file", "http"):
        assert name in result.stderr.split("installed types: ", 1)[1]
    assert "Traceback" not in result.stderr
