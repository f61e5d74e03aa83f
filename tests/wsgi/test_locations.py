"""``POST /v2/images/{id}/locations`` follows Glance 33's rules (review P1.2).

Glance 33: only ``queued`` images take a location (409 otherwise); callers without the
``service`` role may only add http locations, and only when an http store is enabled (403
"http store must be enabled to use location API by normal user."); http(s) URLs must pass the
web-download URI filtering (400); the ``store`` of the new location is computed, never taken
from the caller.
"""

from __future__ import annotations

from .conftest import ADMIN, Client

SERVICE = {"X-Identity-Status": "Confirmed", "X-User-Id": "nova", "X-Roles": "service,member",
           "X-Project-Id": "alice-project"}
DATA = b"admin's precious bytes"


def _admin_image(client: Client) -> dict[str, str]:
    image = client.create(name="admin", visibility="public", disk_format="raw",
                          container_format="bare", as_=ADMIN)
    assert client.upload(image["id"], DATA, as_=ADMIN).status_int == 204
    return image


def test_a_member_cannot_point_an_image_at_another_images_data(client: Client) -> None:
    victim = _admin_image(client)
    mine = client.create(name="mine", disk_format="raw", container_format="bare")
    resp = client.post(f"/v2/images/{mine['id']}/locations",
                       {"url": f"memory://fast/{victim['id']}", "metadata": {"store": "fast"}})
    assert resp.status_int == 403, resp.text
    assert "http store must be enabled to use location API by normal user." in resp.text
    assert client.delete(f"/v2/images/{mine['id']}").status_int == 204
    download = client.get(f"/v2/images/{victim['id']}/file")
    assert download.status_int == 200 and download.body == DATA


def test_only_queued_images_take_a_location(client: Client) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], b"abc").status_int == 204
    resp = client.post(f"/v2/images/{image['id']}/locations",
                       {"url": "http://example.com/x"}, as_=SERVICE)
    assert resp.status_int == 409, resp.text
    assert "It's not allowed to add locations if image status is active." in resp.text


def test_http_locations_must_pass_uri_filtering(client: Client) -> None:
    image = client.create(name="x", disk_format="raw", container_format="bare")
    resp = client.post(f"/v2/images/{image['id']}/locations",
                       {"url": "http://127.0.0.1/x"}, as_=SERVICE)
    assert resp.status_int == 400, resp.text
    assert "URI for add location does not pass filtering: http://127.0.0.1/x" in resp.text


def test_a_service_adds_a_store_location_with_a_computed_store(client: Client) -> None:
    source = _admin_image(client)
    url = f"memory://slow/{source['id']}"
    # (the data a service registers lives in a store; copy it where the test can point)
    stores = client.app.gateway.stores  # type: ignore[attr-defined]
    stored = stores.write(source["id"], [DATA], backend="slow")
    assert stored.url == url
    image = client.create(name="x", disk_format="raw", container_format="bare")
    resp = client.post(f"/v2/images/{image['id']}/locations",
                       {"url": url, "metadata": {"store": "fast"}}, as_=SERVICE)
    assert resp.status_int == 202, resp.text
    shown = client.get(f"/v2/images/{image['id']}").json
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    locations = client.get(f"/v2/images/{image['id']}/locations", as_=SERVICE).json
    assert locations == [{"url": url, "metadata": {"store": "slow"}}]
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA
