"""No cross-project read or delete through locations (issue 12, section 1), over real HTTP.

The world: a real HTTP server on loopback serving the app over a SQLite database, a ``file``
backend (the default) and a ``memory`` backend. Project B owns private images with data in
each; a caller with the ``service`` role in project A (or an admin, through PATCH) tries to give
A's image a location that names B's data. Every path that sets a location refuses the restricted
schemes (``file``, ``filesystem``, ``swift+config`` and any scheme a driver declares), in any
spelling; a URL another image lists is refused (in its normalised spelling too); deleting an
image never deletes data another image lists; store texts that name a path never reach callers.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import glance_store_plugins as gsp
from glance_domain.gateway import Gateway
from glance_domain.model.location import Location
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.stores import PluginStoreRegistry
from glance_domain_adapters.wsgi.app import make_app
from glance_store_plugins.drivers.memory import MemoryStore
from tests.conftest import cached_engine, empty_tables

from .servers import serve

SERVICE_A = {"X-Identity-Status": "Confirmed", "X-User-Id": "nova", "X-Roles": "service,member",
             "X-Project-Id": "project-a"}
MEMBER_A = {"X-Identity-Status": "Confirmed", "X-User-Id": "alice", "X-Roles": "member,reader",
            "X-Project-Id": "project-a"}
MEMBER_B = {"X-Identity-Status": "Confirmed", "X-User-Id": "bob", "X-Roles": "member,reader",
            "X-Project-Id": "project-b"}
ADMIN = {"X-Identity-Status": "Confirmed", "X-User-Id": "root", "X-Roles": "admin,member,reader",
         "X-Project-Id": "admin-project"}
SECRET = b"project B's private bytes" * 100
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


class LockedStore(MemoryStore):
    """A driver that declares its own scheme restricted (the driver API's way to say so)."""

    driver_name = "locked"
    schemes = ("locked",)
    restricted_schemes = ("locked",)

    def owns(self, location: str) -> bool:
        return location.startswith(f"locked://{self.backend}/")


@attrs.frozen
class World:
    endpoint: str
    datadir: Path
    repository: SqlImageRepository
    stores: PluginStoreRegistry

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, bytes]:
        host, port = self.endpoint.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        hdrs = dict(headers or MEMBER_B)
        if body is not None:
            raw = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=raw, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def create(self, headers: dict[str, str], **attributes: Any) -> str:
        status, body = self.request("POST", "/v2/images", {
            "name": "img", "disk_format": "raw", "container_format": "bare", **attributes},
            headers)
        assert status == 201, body
        return str(json.loads(body)["id"])

    def upload(self, image_id: str, data: bytes, headers: dict[str, str],
               store: str | None = None) -> None:
        hdrs = {**headers, "Content-Type": "application/octet-stream"}
        if store:
            hdrs["X-Image-Meta-Store"] = store
        status, body = self.request("PUT", f"/v2/images/{image_id}/file", headers=hdrs,
                                    raw=data)
        assert status == 204, body

    def show(self, image_id: str, headers: dict[str, str]) -> dict[str, Any]:
        status, body = self.request("GET", f"/v2/images/{image_id}", headers=headers)
        assert status == 200, body
        return dict(json.loads(body))

    def download(self, image_id: str, headers: dict[str, str] = MEMBER_B) -> tuple[int, bytes]:
        return self.request("GET", f"/v2/images/{image_id}/file", headers=headers)


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    engine = cached_engine(sqlite_url)
    empty_tables(engine)
    repository = SqlImageRepository(engine)
    datadir = tmp_path / "images"
    registry = gsp.build_registry({
        "fs": ("file", {"filesystem_store_datadir": str(datadir),
                        "filesystem_store_direct_io": False}),
        "mem": ("memory", {}),
    }, default="fs")
    registry = gsp.Registry({**{s.backend: s for s in registry},
                             "vault": LockedStore(backend="vault")}, default="fs")
    stores = PluginStoreRegistry(registry)
    settings = DomainSettings(show_multiple_locations=True)
    gateway = Gateway(repository=repository, stores=stores, policy=DefaultPolicy(),
                      notifier=NullNotifier(), settings=settings)
    app = make_app(gateway, settings)
    with serve(app) as endpoint:
        yield World(endpoint, Path(os.path.realpath(datadir)), repository, stores)


def _victim(world: World, store: str | None = None) -> str:
    image_id = world.create(MEMBER_B, visibility="private")
    world.upload(image_id, SECRET, MEMBER_B, store)
    return image_id


def _restricted_urls(world: World, victim: str) -> list[str]:
    path = f"{world.datadir}/{victim}"
    parent, name = os.path.split(path)
    return [
        f"file://{path}",
        f"file://{parent}/./{name}",
        f"file://{parent}//{name}",
        f"file://{parent}/../{os.path.basename(parent)}/{name}",
        f"file://localhost{path}",
        f"FILE://{path}",
        f"filesystem://{path}",
        "swift+config://ref1/glance/" + victim,
        "locked://vault/" + victim,
    ]


def _assert_victim_intact(world: World, victim: str) -> None:
    assert world.show(victim, MEMBER_B)["status"] == "active"
    assert world.download(victim) == (200, SECRET)


def test_the_add_location_api_refuses_restricted_schemes_to_a_service(world: World) -> None:
    victim = _victim(world)
    world.stores.write(victim, [SECRET], backend="vault")  # a copy the driver restricts
    for url in _restricted_urls(world, victim):
        mine = world.create(MEMBER_A)
        status, body = world.request("POST", f"/v2/images/{mine}/locations",
                                     {"url": url, "metadata": {}}, SERVICE_A)
        assert status == 400, (url, body)
        assert str(world.datadir).encode() not in body
        assert world.show(mine, MEMBER_A)["status"] == "queued"
        status, _ = world.request("DELETE", f"/v2/images/{mine}", headers=MEMBER_A)
        assert status == 204
        _assert_victim_intact(world, victim)


def test_a_patch_refuses_restricted_schemes_even_to_an_admin(world: World) -> None:
    victim = _victim(world)
    world.stores.write(victim, [SECRET], backend="vault")  # a copy the driver restricts
    for url in _restricted_urls(world, victim):
        mine = world.create(ADMIN)
        status, body = world.request(
            "PATCH", f"/v2/images/{mine}",
            [{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
            {**ADMIN, "Content-Type": PATCH_TYPE})
        assert status == 400, (url, body)
        assert b"Invalid location" in body
        assert world.show(mine, ADMIN)["status"] == "queued"
        assert world.request("DELETE", f"/v2/images/{mine}", headers=ADMIN)[0] == 204
        _assert_victim_intact(world, victim)


def test_a_url_another_image_lists_is_refused_in_any_spelling(world: World) -> None:
    victim = _victim(world, "mem")
    for url in (f"memory://mem/{victim}", f"memory://mem//{victim}",
                f"memory://mem/./{victim}", f"MEMORY://mem/{victim}"):
        mine = world.create(MEMBER_A)
        status, body = world.request("POST", f"/v2/images/{mine}/locations",
                                     {"url": url, "metadata": {}}, SERVICE_A)
        assert status == 409, (url, body)
        assert b"already in use by another image" in body
        admin_image = world.create(ADMIN)
        status, body = world.request(
            "PATCH", f"/v2/images/{admin_image}",
            [{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
            {**ADMIN, "Content-Type": PATCH_TYPE})
        assert status == 409, (url, body)
        for image_id, who in ((mine, MEMBER_A), (admin_image, ADMIN)):
            assert world.show(image_id, who)["status"] == "queued"
            assert world.request("DELETE", f"/v2/images/{image_id}", headers=who)[0] == 204
        _assert_victim_intact(world, victim)


def test_deleting_an_image_keeps_data_another_image_lists(world: World) -> None:
    """Two images listing one URL (records written before this rule, or two adds racing):
    deleting either keeps the data while the other lists it."""
    for store in ("fs", "mem"):
        victim = _victim(world, store)
        url = world.stores.registry.get(store).location_for(  # type: ignore[attr-defined]
            world.stores.registry.get(store).datadirs[0], victim) if store == "fs" \
            else f"memory://mem/{victim}"
        mine = world.create(MEMBER_A)
        before = world.repository.get(mine)
        world.repository.save(before, attrs.evolve(
            before, status="active", size=len(SECRET),
            locations=(Location(url=url, metadata={"store": store}),)))
        assert world.request("DELETE", f"/v2/images/{mine}", headers=MEMBER_A)[0] == 204
        _assert_victim_intact(world, victim)
        # the last image listing the data takes it with it
        assert world.request("DELETE", f"/v2/images/{victim}", headers=MEMBER_B)[0] == 204
        if store == "fs":
            assert not (world.datadir / victim).exists()
        else:
            with pytest.raises(gsp.NotFound):
                world.stores.registry.size(url)


def test_a_location_is_recorded_in_its_normalised_spelling(world: World) -> None:
    source = world.create(ADMIN)
    world.upload(source, SECRET, ADMIN, "mem")
    # data of its own for the new image, in the memory backend
    target = world.create(MEMBER_A)
    stored = world.stores.write(target, [b"fresh data"], backend="mem")
    status, body = world.request(
        "POST", f"/v2/images/{target}/locations",
        {"url": stored.url.replace(f"/{target}", f"/.//{target}"), "metadata": {}}, SERVICE_A)
    assert status == 202, body
    status, body = world.request("GET", f"/v2/images/{target}/locations", headers=SERVICE_A)
    assert status == 200 and json.loads(body)[0]["url"] == f"memory://mem/{target}"
    assert world.download(target, MEMBER_A) == (200, b"fresh data")


def test_store_texts_never_show_a_path(world: World) -> None:
    victim = _victim(world)
    (world.datadir / victim).unlink()  # the data vanished behind the service's back
    status, body = world.download(victim)
    assert status >= 400
    assert str(world.datadir).encode() not in body and b"file://" not in body, body
    mine = world.create(MEMBER_A)
    status, body = world.request("POST", f"/v2/images/{mine}/locations",
                                 {"url": "memory://mem/nothing-here", "metadata": {}},
                                 SERVICE_A)
    assert status == 400 and b"Invalid location" in body, body


def test_imports_and_tasks_refuse_restricted_schemes(world: World) -> None:
    victim = _victim(world)
    mine = world.create(MEMBER_A)
    for url in (f"file://{world.datadir}/{victim}", f"FILE://{world.datadir}/{victim}",
                "swift+config://ref1/c/o"):
        status, body = world.request(
            "POST", f"/v2/images/{mine}/import",
            {"method": {"name": "web-download", "uri": url}}, MEMBER_A)
        assert status == 400, (url, body)
        status, body = world.request("POST", "/v2/tasks", {
            "type": "import", "input": {"import_from": url, "import_from_format": "raw",
                                        "image_properties": {"name": "x"}}}, ADMIN)
        assert status == 400, (url, body)
    assert world.show(mine, MEMBER_A)["status"] == "queued"
    _assert_victim_intact(world, victim)
