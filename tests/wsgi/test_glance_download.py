"""The glance-download import method over HTTP: a second glance-domain on 127.0.0.1 plays the
remote region, found through the caller's service catalog (``X-Service-Catalog``)."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import write_config
from tests.wsgi.conftest import ALICE, Client

DATA = os.urandom(300_000)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _app(tmp: Path, extra: str = "") -> Any:
    tmp.mkdir(parents=True, exist_ok=True)
    config = write_config(tmp)
    with config.open("a") as f:
        f.write(extra)
    return bootstrap.build_app(bootstrap.load_config([], [str(config)]))


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[Client, str]]:
    """The other region: a real HTTP server on loopback; its client (local admin)."""
    app = _app(tmp_path / "remote")
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(app, {}), f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _local(tmp_path: Path, endpoint: str) -> Client:
    app = _app(tmp_path / "local", "[DEFAULT]\nenabled_import_methods = [glance-direct, "
               "web-download, copy-image, glance-download]\n")
    catalog = [{"type": "image", "name": "glance", "endpoints": [
        {"region": "RegionOne", "publicURL": "http://127.0.0.1:9/unused"},
        {"region": "RegionTwo", "publicURL": endpoint, "internalURL": endpoint}]}]
    return Client(app, {**ALICE, "X-Service-Catalog": json.dumps(catalog),
                        "X-Auth-Token": "token-of-alice"})


def _remote_image(remote: Client, **props: Any) -> str:
    image = remote.create(name="golden", disk_format="raw", container_format="bare", **props)
    assert remote.upload(image["id"], DATA).status_int == 204
    return str(image["id"])


def _wait(client: Client, image_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image = client.get(f"/v2/images/{image_id}").json
        if image["status"] in ("active", "queued") and "os_glance_import_task" not in image:
            return dict(image)
        time.sleep(0.05)
    raise AssertionError(f"import did not finish: {image}")


def _import(local: Client, image_id: str, **method: Any) -> Any:
    return local.post(f"/v2/images/{image_id}/import",
                      {"method": {"name": "glance-download", **method}})


def test_an_image_is_copied_from_another_region(
        tmp_path: Path, remote: tuple[Client, str]) -> None:
    remote_client, endpoint = remote
    source = _remote_image(remote_client, hw_disk_bus="virtio", os_distro="cirros",
                           private_note="stays there")
    local = _local(tmp_path, endpoint)
    target = local.create(name="copy", disk_format="qcow2", container_format="ovf")
    started = _import(local, target["id"], glance_image_id=source, glance_region="regiontwo")
    assert started.status_int == 202, started.text
    image = _wait(local, target["id"])
    assert image["status"] == "active" and image["size"] == len(DATA)
    assert (image["disk_format"], image["container_format"]) == ("raw", "bare")
    assert image["hw_disk_bus"] == "virtio" and image["os_distro"] == "cirros"
    assert "private_note" not in image
    assert local.get(f"/v2/images/{target['id']}/file").body == DATA
    tasks = local.get(f"/v2/images/{target['id']}/tasks").json["tasks"]
    assert tasks[0]["status"] == "success"
    assert tasks[0]["input"]["import_req"]["method"]["glance_service_interface"] == "public"


def test_a_remote_image_that_is_not_active_fails_and_reverts(
        tmp_path: Path, remote: tuple[Client, str]) -> None:
    remote_client, endpoint = remote
    source = remote_client.create(name="empty", disk_format="raw", container_format="bare",
                                  hw_cpu_cores="2")["id"]
    local = _local(tmp_path, endpoint)
    target = local.create(name="copy", disk_format="qcow2", container_format="ovf")
    assert _import(local, target["id"], glance_image_id=source,
                   glance_region="RegionTwo").status_int == 202
    image = _wait(local, target["id"])
    assert image["status"] == "queued"
    assert (image["disk_format"], image["container_format"]) == ("qcow2", "ovf")
    assert "hw_cpu_cores" not in image
    task = local.get(f"/v2/images/{target['id']}/tasks").json["tasks"][0]
    assert task["status"] == "failure"
    assert "Source image status should be active instead of queued" in task["message"]


def test_an_unknown_region_fails_the_task(tmp_path: Path, remote: tuple[Client, str]) -> None:
    local = _local(tmp_path, remote[1])
    target = local.create(name="copy", disk_format="raw", container_format="bare")
    assert _import(local, target["id"], glance_image_id=str(uuid.uuid4()),
                   glance_region="Mars").status_int == 202
    assert _wait(local, target["id"])["status"] == "queued"
    task = local.get(f"/v2/images/{target['id']}/tasks").json["tasks"][0]
    assert "No glance endpoint found for region Mars" in task["message"]


@pytest.mark.parametrize(("method", "text"), [
    ({"glance_image_id": str(uuid.uuid4())},
     "'glance_region' needs to be set for glance-download import method"),
    ({"glance_region": "RegionTwo"},
     "'glance_image_id' needs to be set for glance-download import method"),
    ({"glance_region": "RegionTwo", "glance_image_id": "nope"},
     "Remote image id does not look like a UUID: nope"),
])
def test_requests_glance_refuses(tmp_path: Path, remote: tuple[Client, str],
                                 method: dict[str, str], text: str) -> None:
    local = _local(tmp_path, remote[1])
    target = local.create(name="copy", disk_format="raw", container_format="bare")
    refused = _import(local, target["id"], **method)
    assert refused.status_int == 400 and text in refused.text
    # the image's own state is checked first (Glance's order)
    active = local.create(name="a", disk_format="raw", container_format="bare")
    assert local.upload(active["id"], b"x").status_int == 204
    assert _import(local, active["id"], **method).status_int == 409


def test_the_method_is_off_by_default(tmp_path: Path) -> None:
    client = Client(_app(tmp_path / "plain"), ALICE)
    target = client.create(name="copy", disk_format="raw", container_format="bare")
    refused = _import(client, target["id"], glance_image_id=str(uuid.uuid4()),
                      glance_region="RegionTwo")
    assert refused.status_int == 400
    assert "Unknown import method name 'glance-download'" in refused.text
