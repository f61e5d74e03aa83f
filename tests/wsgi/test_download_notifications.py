"""``image.send`` is emitted for every download, including the zero-copy path where the
server sends the store's open file through ``wsgi.file_wrapper`` (review P1.6)."""

from __future__ import annotations

import wsgiref.util
from pathlib import Path
from typing import Any

import webob

import glance_store_plugins as gsp
from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository
from glance_domain.notifications import RecordingNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.stores import PluginStoreRegistry
from glance_domain_adapters.wsgi.app import make_app

from .conftest import ALICE, Client

DATA = bytes(range(256)) * 8192  # 2 MiB: several chunks


def _world(tmp_path: Path) -> tuple[Any, RecordingNotifier, str]:
    notifier = RecordingNotifier()
    stores = PluginStoreRegistry(gsp.build_registry(
        {"fs": ("file", {"filesystem_store_datadir": str(tmp_path)})}, default="fs"))
    settings = DomainSettings()
    gateway = Gateway(repository=MemoryImageRepository(), stores=stores,
                      policy=DefaultPolicy(), notifier=notifier, settings=settings)
    app = make_app(gateway, settings)
    client = Client(app, ALICE)
    image = client.create(name="x", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], DATA).status_int == 204
    return app, notifier, image["id"]


def _sends(notifier: RecordingNotifier) -> list[Any]:
    return [e for e in notifier.events if e.event_type == "image.send"]


def test_file_wrapper_download_emits_image_send(tmp_path: Path) -> None:
    app, notifier, image_id = _world(tmp_path)
    req = webob.Request.blank(f"/v2/images/{image_id}/file", headers=ALICE)
    req.environ["wsgi.file_wrapper"] = wsgiref.util.FileWrapper
    status, _headers, body = req.call_application(app)
    assert status.startswith("200")
    assert isinstance(body, wsgiref.util.FileWrapper)  # still zero copy for the server
    assert b"".join(body) == DATA
    body.close()  # what the server does once the response is sent
    sends = _sends(notifier)
    assert len(sends) == 1, notifier.events
    assert sends[0].payload["bytes_sent"] == len(DATA) and sends[0].level == "INFO"
    assert sends[0].payload["image_id"] == image_id


def test_chunked_download_emits_image_send_once(tmp_path: Path) -> None:
    app, notifier, image_id = _world(tmp_path)
    resp = webob.Request.blank(f"/v2/images/{image_id}/file", headers=ALICE).get_response(app)
    assert resp.body == DATA
    sends = _sends(notifier)
    assert len(sends) == 1 and sends[0].payload["bytes_sent"] == len(DATA)


def test_an_abandoned_download_reports_what_was_sent(tmp_path: Path) -> None:
    app, notifier, image_id = _world(tmp_path)
    req = webob.Request.blank(f"/v2/images/{image_id}/file", headers=ALICE)
    _status, _headers, body = req.call_application(app)
    first = next(iter(body))
    body.close()  # the client went away after one chunk
    sends = _sends(notifier)
    assert len(sends) == 1
    assert sends[0].payload["bytes_sent"] == len(first) and sends[0].level == "ERROR"
