"""``[import_filtering_opts]`` from the operator's file, for web-download and for http
locations (PATCH and the 2.17 locations API), with a real web server on 127.0.0.1.

As in Glance 33: a host named in ``allowed_hosts`` may be reached even on loopback, an empty
``allowed_ports`` allows every port but ``disallowed_ports``; a refused location says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webob

from glance_domain_adapters import bootstrap
from tests.stores.httpserver import Site, serve

MEMBER = {"X-Identity-Status": "Confirmed", "X-User-Id": "u1", "X-Roles": "member,reader",
          "X-Project-Id": "p1"}
DATA = b"an image served by a web server on loopback" * 100
PATCH = "application/openstack-images-v2.1-json-patch"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        running.files["/image.raw"] = DATA
        yield running


def _app(tmp_path: Path, filtering: str) -> Any:
    path = tmp_path / "glance-api.conf"
    path.write_text(
        f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\nshow_multiple_locations = true\n"
        "enabled_backends = fs:file, web:http\n"
        "enabled_import_methods = [glance-direct,web-download,copy-image]\n"
        "[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp_path / 'images'}\n"
        "[import_filtering_opts]\n" + filtering)
    return bootstrap.build_app(bootstrap.load_config(config_files=[str(path)]))


def _call(app: Any, method: str, path: str, body: Any = None,
          content_type: str = "application/json") -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=MEMBER)
    if body is not None:
        req.json_body = body
        req.content_type = content_type
    return req.get_response(app)


def _queued(app: Any) -> str:
    created = _call(app, "POST", "/v2/images",
                    {"name": "web", "disk_format": "raw", "container_format": "bare"})
    assert created.status_int == 201, created.text
    return str(created.json["id"])


def _wait_status(app: Any, image_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        image = _call(app, "GET", f"/v2/images/{image_id}").json
        if image["status"] == status or time.monotonic() > deadline:
            return dict(image)
        time.sleep(0.05)


def _web_download(app: Any, image_id: str, url: str) -> webob.Response:
    return _call(app, "POST", f"/v2/images/{image_id}/import",
                 {"method": {"name": "web-download", "uri": url}})


def _patch_location(app: Any, image_id: str, url: str) -> webob.Response:
    return _call(app, "PATCH", f"/v2/images/{image_id}",
                 [{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
                 content_type=PATCH)


def test_allowed_loopback_host_works_for_every_path(tmp_path: Path, site: Site) -> None:
    app = _app(tmp_path, "allowed_hosts = [127.0.0.1]\nallowed_ports = []\n")
    url = f"{site.base}/image.raw"

    imported = _queued(app)
    assert _web_download(app, imported, url).status_int == 202
    image = _wait_status(app, imported, "active")
    assert image["status"] == "active" and image["size"] == len(DATA)
    assert _call(app, "GET", f"/v2/images/{imported}/file").body == DATA

    patched = _queued(app)
    resp = _patch_location(app, patched, url)
    assert resp.status_int == 200, resp.text
    assert resp.json["status"] == "active"
    assert [loc["url"] for loc in resp.json["locations"]] == [url]
    assert resp.json["locations"][0]["metadata"]["store"] == "web"
    assert _call(app, "GET", f"/v2/images/{patched}/file").body == DATA

    added = _queued(app)
    resp = _call(app, "POST", f"/v2/images/{added}/locations", {"url": url})
    assert resp.status_int == 202, resp.text
    assert _wait_status(app, added, "active")["size"] == len(DATA)
    assert _call(app, "GET", f"/v2/images/{added}/file").body == DATA


@pytest.mark.parametrize("filtering", [
    "",  # Glance's defaults: ports 80 and 443 only
    "allowed_ports = []\n",  # every port, but loopback is not an allowed host
    "allowed_hosts = [127.0.0.1]\nallowed_ports = []\ndisallowed_ports = [{port}]\n"
    "allowed_schemes = [https]\n",
    "allowed_hosts = [127.0.0.1]\nallowed_ports = [1]\n",
    "allowed_hosts = [127.0.0.1]\nallowed_ports = []\nallowed_schemes = []\n"
    "disallowed_schemes = [http]\n",
    "allowed_hosts = [localhost]\nallowed_ports = []\n",
    "allowed_ports = []\nallowed_networks = 127.0.0.0/8\ndisallowed_hosts = [127.0.0.1]\n",
])
def test_refusals_say_why(tmp_path: Path, site: Site, filtering: str) -> None:
    port = site.base.rsplit(":", 1)[1]
    app = _app(tmp_path, filtering.replace("{port}", port))
    url = f"{site.base}/image.raw"
    image_id = _queued(app)
    resp = _web_download(app, image_id, url)
    assert resp.status_int == 400
    assert f"URI for web-download does not pass filtering: {url}" in resp.text
    resp = _patch_location(app, image_id, url)
    assert resp.status_int == 400
    assert f"Invalid location: URI does not pass filtering: {url}" in resp.text
    assert "malformed" not in resp.text
    resp = _call(app, "POST", f"/v2/images/{image_id}/locations", {"url": url})
    assert resp.status_int == 400
    assert f"URI for add location does not pass filtering: {url}" in resp.text
    assert _call(app, "GET", f"/v2/images/{image_id}").json["status"] == "queued"
    assert site.requests == []  # nothing was fetched


def test_allowed_networks_still_reach_unlisted_hosts(tmp_path: Path, site: Site) -> None:
    """glance-domain's own ``allowed_networks`` lets the operator reach non-public networks
    without naming hosts."""
    app = _app(tmp_path, "allowed_ports = []\nallowed_networks = 127.0.0.0/8\n")
    image_id = _queued(app)
    assert _web_download(app, image_id, f"{site.base}/image.raw").status_int == 202
    assert _wait_status(app, image_id, "active")["size"] == len(DATA)
