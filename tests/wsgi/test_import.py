"""Interoperable import over HTTP: /stage, /import, tasks — with the real file staging area,
SQL task repository (SQLite), a thread-pool executor and web-download from a 127.0.0.1 http.server
(allow-listed), plus python-glanceclient doing glance-direct and web-download over cheroot."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_domain.gateway import Gateway
from glance_domain.importing import ThreadExecutor
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.tasks import SqlTaskRepository
from glance_domain_adapters.importing import FileStagingArea, HttpFetcher, ImportFilter
from glance_domain_adapters.wsgi.app import make_app
from tests.wsgi.servers import serve

from .conftest import ADMIN, ALICE, BOB, Client

DATA = bytes(range(256)) * 800  # 204800 bytes


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 127.0.0.1 web server serving ``/image.raw``."""
    root = tmp_path_factory.mktemp("web")
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _sql_tasks(tmp: Path) -> SqlTaskRepository:
    """Tasks in a fresh SQLite image database, as the server keeps them."""
    url = f"sqlite:///{tmp / 'glance.sqlite'}"
    migrate.upgrade(url)
    return SqlTaskRepository(make_engine(url))


class Env:
    def __init__(self, tmp: Path, *, allow_loopback: bool = True, cap: int | None = None,
                 **settings_kw: Any):
        if cap:
            settings_kw["image_size_cap"] = cap
        settings = DomainSettings(**settings_kw)
        self.stores = MemoryStoreRegistry(("fast", "slow"))
        self.staging = FileStagingArea(str(tmp / "staging"))
        self.executor = ThreadExecutor(2)
        fetcher = HttpFetcher(
            uri_filter=ImportFilter(allowed_ports=()),
            allowed_networks=("127.0.0.0/8",) if allow_loopback else (),
        )
        self.gateway = Gateway(
            repository=MemoryImageRepository(), stores=self.stores, policy=DefaultPolicy(),
            notifier=NullNotifier(), settings=settings,
            tasks=_sql_tasks(tmp),
            staging=self.staging,
            executor=self.executor, fetcher=fetcher,
        )
        self.app: Callable[..., Any] = make_app(self.gateway, settings)
        self.client = Client(self.app, ALICE)

    def wait(self, image_id: str, as_: dict[str, str] | None = None) -> dict[str, Any]:
        """The image once no import task holds it (the executor drains quickly)."""
        deadline = time.monotonic() + 30
        while True:
            image = self.client.get(f"/v2/images/{image_id}", as_=as_).json
            if "os_glance_import_task" not in image or time.monotonic() > deadline:
                return dict(image)
            time.sleep(0.02)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    yield e
    e.executor.shutdown()


def _new(client: Client, **kw: Any) -> str:
    attrs = {"name": "imp", "disk_format": "raw", "container_format": "bare", **kw}
    return str(client.create(**attrs)["id"])


def _stage(client: Client, image_id: str, data: bytes = DATA, **kw: Any) -> Any:
    return client.put(f"/v2/images/{image_id}/stage", body=data,
                      content_type="application/octet-stream", **kw)


def test_info_and_create_headers(env: Env) -> None:
    doc = env.client.get("/v2/info/import").json
    assert doc["import-methods"]["value"] == ["glance-direct", "web-download", "copy-image"]
    resp = env.client.post("/v2/images", {"name": "x"})
    assert resp.headers["OpenStack-image-import-methods"] == (
        "glance-direct,web-download,copy-image")


def test_glance_direct_stage_import_active(env: Env) -> None:
    c = env.client
    image_id = _new(c)
    resp = _stage(c, image_id)
    assert resp.status_int == 204 and resp.body == b""
    staged = c.get(f"/v2/images/{image_id}").json
    assert staged["status"] == "uploading" and staged["size"] == len(DATA)
    assert staged["checksum"] is None
    assert _stage(c, image_id).status_int == 409  # uploading -> uploading
    assert c.upload(image_id, b"abc").status_int == 409

    resp = c.post(f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}})
    assert resp.status_int == 202 and resp.body == b""
    image = env.wait(image_id)
    assert image["status"] == "active" and image["stores"] == "fast"
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_glance_importing_to_stores"] == ""
    assert image["os_glance_failed_import"] == ""
    assert c.get(f"/v2/images/{image_id}/file").body == DATA
    assert not env.staging.exists(image_id)

    (task,) = c.get(f"/v2/images/{image_id}/tasks").json["tasks"]
    assert task["status"] == "success" and task["type"] == "api_image_import"
    assert task["input"] == {"image_id": image_id,
                             "import_req": {"method": {"name": "glance-direct"}},
                             "backend": ["fast"]}
    assert task["result"] == {"image_id": image_id} and task["deleted"] is False
    assert set(task) == {"id", "type", "status", "owner", "expires_at", "created_at",
                         "updated_at", "deleted_at", "deleted", "image_id", "request_id",
                         "user_id", "input", "result", "message"}

    # the tasks API is admin-only, as in Glance 33
    assert c.get(f"/v2/tasks/{task['id']}").status_int == 403
    full = c.get(f"/v2/tasks/{task['id']}", as_=ADMIN).json
    assert full["self"] == f"/v2/tasks/{task['id']}" and full["status"] == "success"
    assert full["expires_at"].endswith("Z")
    listed = c.get("/v2/tasks", as_=ADMIN).json
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    assert "input" not in listed["tasks"][0]
    resp = c.delete(f"/v2/tasks/{task['id']}", as_=ADMIN)
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({}, 400, "requires a 'method' field"),
        ({"method": {}}, 400, "requires a 'name' field"),
        ({"method": {"name": "bogus"}}, 400, "Unknown import method name 'bogus'"),
        ({"method": {"name": "glance-direct"}, "all_stores": "x"}, 400, "'all_stores' must"),
        ({"method": {"name": "glance-direct"}}, 409, "needs to be staged"),
        ({"method": {"name": "copy-image"}}, 409, "Only images with status active"),
        ({"method": {"name": "web-download", "uri": "ftp://x/y"}}, 400,
         "does not pass filtering: ftp://x/y"),
        ({"method": {"name": "web-download", "uri": "http://a"}, "stores": ["nope"]}, 409,
         "Store for identifier nope not found"),
    ],
)
def test_import_errors(env: Env, body: dict[str, Any], status: int, text: str) -> None:
    image_id = _new(env.client)
    resp = env.client.post(f"/v2/images/{image_id}/import", body)
    assert resp.status_int == status, resp.text
    assert text in resp.text


def test_import_forbidden_for_other_projects(env: Env) -> None:
    image_id = _new(env.client, visibility="community")
    resp = env.client.post(f"/v2/images/{image_id}/import",
                           {"method": {"name": "web-download", "uri": "http://a"}}, as_=BOB)
    assert resp.status_int == 403
    assert _stage(env.client, image_id, as_=BOB).status_int == 403


def test_web_download_from_allow_listed_loopback(env: Env, web: str) -> None:
    c = env.client
    image_id = _new(c)
    resp = c.post(f"/v2/images/{image_id}/import", {
        "method": {"name": "web-download", "uri": f"{web}/image.raw"},
        "stores": ["fast", "slow"]})
    assert resp.status_int == 202
    image = env.wait(image_id)
    assert image["status"] == "active" and image["size"] == len(DATA)
    assert sorted(image["stores"].split(",")) == ["fast", "slow"]
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()


def test_web_download_loopback_refused_without_allow_list(tmp_path: Path, web: str) -> None:
    env = Env(tmp_path, allow_loopback=False)
    image_id = _new(env.client)
    uri = f"{web}/image.raw"
    resp = env.client.post(f"/v2/images/{image_id}/import",
                           {"method": {"name": "web-download", "uri": uri}})
    assert resp.status_int == 400
    assert f"URI for web-download does not pass filtering: {uri}" in resp.text
    assert env.client.get(f"/v2/images/{image_id}/tasks").json == {"tasks": []}
    env.executor.shutdown()


def test_web_download_failure_leaves_image_queued(env: Env, web: str) -> None:
    c = env.client
    image_id = _new(c)
    resp = c.post(f"/v2/images/{image_id}/import",
                  {"method": {"name": "web-download", "uri": f"{web}/missing.raw"}})
    assert resp.status_int == 202
    image = env.wait(image_id)
    assert image["status"] == "queued"
    assert image["os_glance_failed_import"] == "fast"
    assert image["os_glance_importing_to_stores"] == ""
    (task,) = c.get(f"/v2/images/{image_id}/tasks").json["tasks"]
    assert task["status"] == "failure" and task["message"]
    assert env.stores.object_count() == 0 and not env.staging.exists(image_id)


def test_web_download_over_size_cap_fails_cleanly(tmp_path: Path, web: str) -> None:
    env = Env(tmp_path, cap=1000)
    image_id = _new(env.client)
    env.client.post(f"/v2/images/{image_id}/import",
                    {"method": {"name": "web-download", "uri": f"{web}/image.raw"}})
    image = env.wait(image_id)
    assert image["status"] == "queued" and env.stores.object_count() == 0
    assert list((tmp_path / "staging").iterdir()) == []
    assert _stage(env.client, image_id).status_int == 413
    assert env.client.get(f"/v2/images/{image_id}").json["status"] == "queued"
    env.executor.shutdown()


def test_copy_image_by_admin(env: Env) -> None:
    c = env.client
    image_id = _new(c)
    assert c.upload(image_id, DATA).status_int == 204
    url = f"/v2/images/{image_id}/import"
    assert c.post(url, {"method": {"name": "copy-image"}, "stores": ["slow"]}).status_int == 403
    resp = c.post(url, {"method": {"name": "copy-image"}}, as_=ADMIN)
    assert resp.status_int == 400 and "already present at store 'fast'" in resp.text
    resp = c.post(url, {"method": {"name": "copy-image"}, "stores": ["slow"]}, as_=ADMIN)
    assert resp.status_int == 202
    image = env.wait(image_id)
    assert image["status"] == "active" and sorted(image["stores"].split(",")) == [
        "fast", "slow"]
    assert c.post(url, {"method": {"name": "copy-image"}, "all_stores": True},
                  as_=ADMIN).status_int == 202  # nothing left to copy


# -- python-glanceclient over a real HTTP server -------------------------------------------
# (imported in the test: python-glanceclient is a test dependency, and a module-level
# importorskip here would skip every test above with it)


@pytest.fixture
def endpoint(env: Env) -> Iterator[str]:
    with serve(env.app) as url:
        yield url


def test_glanceclient_glance_direct_and_web_download(env: Env, endpoint: str, web: str) -> None:
    from glanceclient.v2 import client as gc_client

    client = gc_client.Client(endpoint=endpoint, token="unused")
    client.http_client.session.headers.update(ALICE)
    assert client.images.get_import_info()["import-methods"]["value"] == [
        "glance-direct", "web-download", "copy-image"]

    image = client.images.create(name="direct", disk_format="raw", container_format="bare")
    client.images.stage(image.id, io.BytesIO(DATA), image_size=len(DATA))
    assert client.images.get(image.id).status == "uploading"
    client.images.image_import(image.id, method="glance-direct")
    assert env.wait(image.id)["status"] == "active"
    assert b"".join(client.images.data(image.id)) == DATA

    image = client.images.create(name="web", disk_format="raw", container_format="bare")
    client.images.image_import(image.id, method="web-download", uri=f"{web}/image.raw")
    assert env.wait(image.id)["status"] == "active"
    assert client.images.get(image.id).checksum == hashlib.md5(DATA).hexdigest()
    tasks = client.images.get_associated_image_tasks(image.id)
    assert [t["status"] for t in tasks["tasks"]] == ["success"]
