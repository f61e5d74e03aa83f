"""PATCH on /locations over HTTP with ``show_multiple_locations`` on: Glance's statuses and
texts (add, quota 413, duplicate 400, invalid 400, remove by admins, last location 403)."""

from __future__ import annotations

from typing import Any

from glance_domain.memory import MemoryStoreRegistry
from glance_domain.settings import DomainSettings

from .conftest import ADMIN, ALICE, Client, build_app

DATA = b"patched locations"


def _client() -> tuple[Client, MemoryStoreRegistry]:
    app: Any = build_app(DomainSettings(show_multiple_locations=True, image_location_quota=2))
    stores = app.gateway.stores
    return Client(app, ALICE), stores


def test_locations_through_patch() -> None:
    client, stores = _client()
    image = client.create(name="loc", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], DATA).status_int == 204
    shown = client.get(f"/v2/images/{image['id']}").json
    assert len(shown["locations"]) == 1
    copy = stores.write(image["id"], [DATA], backend="slow")
    bad = client.patch(f"/v2/images/{image['id']}", [
        {"op": "add", "path": "/locations/-",
         "value": {"url": "memory://fast/none", "metadata": {}}}])
    assert bad.status_int == 400 and "Invalid location" in bad.text
    add = [{"op": "add", "path": "/locations/-", "value": {"url": copy.url, "metadata": {}}}]
    resp = client.patch(f"/v2/images/{image['id']}", add)
    assert resp.status_int == 200, resp.text
    assert [loc["metadata"]["store"] for loc in resp.json["locations"]] == ["fast", "slow"]
    assert resp.json["stores"] == "fast,slow"
    again = client.patch(f"/v2/images/{image['id']}", add)  # at the quota: 413 first
    assert again.status_int == 413 and "locations" in again.text
    third = stores.write(image["id"] + "3", [DATA], backend="fast")
    over = client.patch(f"/v2/images/{image['id']}", [
        {"op": "add", "path": "/locations/-", "value": {"url": third.url, "metadata": {}}}])
    assert over.status_int == 413 and "locations" in over.text
    remove = [{"op": "remove", "path": "/locations/0"}]
    assert client.patch(f"/v2/images/{image['id']}", remove).status_int == 403  # admins only
    removed = client.patch(f"/v2/images/{image['id']}", remove, as_=ADMIN)
    assert removed.status_int == 200
    assert [loc["url"] for loc in removed.json["locations"]] == [copy.url]
    last = client.patch(f"/v2/images/{image['id']}", remove, as_=ADMIN)
    assert last.status_int == 403 and "Cannot remove last location" in last.text
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA
