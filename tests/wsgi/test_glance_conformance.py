"""HTTP behaviour matched against a live Glance 33 (see tools/conformance.py)."""

from __future__ import annotations

import pytest

from .conftest import Client


@pytest.mark.parametrize("field", ["min_ram", "min_disk"])
def test_min_value_out_of_int32_range(client: Client, field: str) -> None:
    resp = client.post("/v2/images", {field: 2**31})
    assert resp.status_int == 400
    assert f"'{field}' value out of range, must not exceed 2147483647." in resp.text
    image = client.create(name="x")
    resp = client.patch(f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": f"/{field}", "value": 2**31}])
    assert resp.status_int == 400 and "value out of range" in resp.text


@pytest.mark.parametrize("field", ["os_hash_value", "os_hash_algo"])
def test_os_hash_fields_ignored_on_create(client: Client, field: str) -> None:
    resp = client.post("/v2/images", {field: "abc"})
    assert resp.status_int == 201, resp.text
    assert resp.json[field] is None


@pytest.mark.parametrize(("field", "value"), [
    ("virtual_size", 5), ("checksum", "abc"), ("size", 5), ("status", "active"),
])
def test_computed_fields_read_only_on_create(client: Client, field: str, value: object) -> None:
    resp = client.post("/v2/images", {field: value})
    assert resp.status_int == 403 and f"Attribute '{field}' is read-only." in resp.text


def test_locations_reserved_on_create(client: Client) -> None:
    resp = client.post("/v2/images", {"locations": []},
                       headers={"Accept": "application/json"})
    assert resp.status_int == 403
    assert resp.json["message"].startswith("Attribute 'locations' is reserved.<br />")
