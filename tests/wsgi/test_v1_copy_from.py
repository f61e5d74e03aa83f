"""``x-glance-api-copy-from`` as a web-download import: allowed exactly where v2's
web-download would fetch the same URL for that caller (URI filtering, allowed networks), and
refused with 400 -- leaving no image behind -- everywhere else (no SSRF through v1)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_domain.gateway import Gateway
from glance_domain.importing import ThreadExecutor
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.importing import FileStagingArea, HttpFetcher, ImportFilter
from glance_domain_adapters.wsgi.app import make_app
from tests.wsgi.conftest import ALICE, Client
from tests.wsgi.test_import import DATA, _QuietHandler, _sql_tasks
from tests.wsgi.v1_support import V1_ON, meta_headers


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 127.0.0.1 web server serving ``/image.raw``."""
    root = tmp_path_factory.mktemp("v1web")
    (root / "image.raw").write_bytes(DATA)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class V1ImportEnv:
    """An app with v1 on, the import machinery and a fetcher that may or may not reach
    127.0.0.1 (the web server of the test)."""

    def __init__(self, tmp: Path, *, allow_loopback: bool) -> None:
        settings = DomainSettings()
        self.executor = ThreadExecutor(2)
        fetcher = HttpFetcher(
            uri_filter=ImportFilter(allowed_ports=()),
            allowed_networks=("127.0.0.0/8",) if allow_loopback else (),
        )
        gateway = Gateway(
            repository=MemoryImageRepository(), stores=MemoryStoreRegistry(("fast",)),
            policy=DefaultPolicy(), notifier=NullNotifier(), settings=settings,
            tasks=_sql_tasks(tmp), staging=FileStagingArea(str(tmp / "staging")),
            executor=self.executor, fetcher=fetcher,
        )
        self.client = Client(make_app(gateway, settings, api_settings=V1_ON), ALICE)

    def copy_from(self, url: str, **fields: Any) -> Any:
        headers = {**meta_headers(name="cf", disk_format="raw", container_format="bare",
                                  **fields), "x-glance-api-copy-from": url}
        return self.client.request("POST", "/v1/images", headers=headers)

    def wait_active(self, image_id: str) -> dict[str, str]:
        deadline = time.monotonic() + 30  # a bound on the wait, not a speed assertion
        while True:
            headers = dict(self.client.request("HEAD", f"/v1/images/{image_id}").headers)
            if headers["x-image-meta-status"] == "active" or time.monotonic() > deadline:
                return headers
            time.sleep(0.02)


@pytest.fixture
def allowed(tmp_path: Path) -> Iterator[V1ImportEnv]:
    env = V1ImportEnv(tmp_path, allow_loopback=True)
    yield env
    env.executor.shutdown()


@pytest.fixture
def filtered(tmp_path: Path) -> Iterator[V1ImportEnv]:
    env = V1ImportEnv(tmp_path, allow_loopback=False)
    yield env
    env.executor.shutdown()


def test_copy_from_where_web_download_may_fetch(allowed: V1ImportEnv, web: str) -> None:
    resp = allowed.copy_from(f"{web}/image.raw")
    assert resp.status_int == 201, resp.text
    headers = allowed.wait_active(resp.json["image"]["id"])
    assert headers["x-image-meta-status"] == "active"
    assert headers["x-image-meta-checksum"] == hashlib.md5(DATA).hexdigest()
    assert allowed.client.get(f"/v1/images/{resp.json['image']['id']}").body == DATA


@pytest.mark.parametrize("path", ["/image.raw", ""])
def test_copy_from_refused_by_uri_filtering(filtered: V1ImportEnv, web: str,
                                            path: str) -> None:
    url = f"{web}{path}"
    resp = filtered.copy_from(url)
    assert resp.status_int == 400, resp.text
    assert f"External sources are not supported: '{url}'" in resp.text
    assert filtered.client.get("/v1/images").json == {"images": []}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x",
                                 "http://169.254.169.254/latest/meta-data/"])
def test_copy_from_other_schemes_and_metadata_service(allowed: V1ImportEnv, url: str) -> None:
    resp = allowed.copy_from(url)
    assert resp.status_int == 400, resp.text
    assert allowed.client.get("/v1/images").json == {"images": []}
