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


def test_locations_need_fetch_image_location(client: Client) -> None:
    from .conftest import ADMIN

    image = client.create(name="x")
    resp = client.get(f"/v2/images/{image['id']}/locations",
                      headers={"Accept": "application/json"})
    assert resp.status_int == 403
    assert resp.json["message"].startswith(
        "You are not authorized to complete fetch_image_location action.")
    shared = client.create(name="y", visibility="public", as_=ADMIN)
    assert client.get(f"/v2/images/{shared['id']}/locations", as_=ADMIN).json == []
    service = {**client.default, "X-Roles": "service"}
    assert client.get(f"/v2/images/{image['id']}/locations", as_=service).status_int == 200


@pytest.mark.parametrize(("method", "suffix", "rule"), [
    ("PATCH", "", "modify_image"),
    ("DELETE", "", "delete_image"),
    ("PUT", "/file", "upload_image"),
    ("PUT", "/stage", "modify_image"),
])
def test_non_owner_refusals_name_glances_policy_rule(
    client: Client, method: str, suffix: str, rule: str
) -> None:
    from .conftest import ADMIN, BOB

    image = client.create(name="pub", visibility="public", disk_format="raw",
                          container_format="bare", as_=ADMIN)
    headers = {"Accept": "application/json"}
    path = f"/v2/images/{image['id']}{suffix}"
    if method == "PATCH":
        resp = client.patch(path, [{"op": "add", "path": "/x", "value": "y"}], as_=BOB,
                            headers=headers)
    elif method == "PUT":
        resp = client.request("PUT", path, body=b"x", content_type="application/octet-stream",
                              as_=BOB, headers=headers)
    else:
        resp = client.request(method, path, as_=BOB, headers=headers)
    assert resp.status_int == 403
    assert resp.json["message"].startswith(f"You are not authorized to complete {rule} action.")


def test_deactivated_images_hide_stores_from_non_admins(client: Client) -> None:
    from .conftest import ADMIN

    image = client.create(name="d", disk_format="raw", container_format="bare")
    assert client.upload(image["id"], b"x").status_int == 204
    url = f"/v2/images/{image['id']}"
    assert client.get(url).json["stores"] == "fast"
    assert client.post(url + "/actions/deactivate", as_=ADMIN).status_int == 204
    shown = client.get(url).json
    assert shown["status"] == "deactivated" and "stores" not in shown
    listed = client.get(f"/v2/images?id={image['id']}").json["images"]
    assert "stores" not in listed[0]
    assert client.get(url, as_=ADMIN).json["stores"] == "fast"


MISSING = "00000000-1111-2222-3333-444444444444"


@pytest.mark.parametrize(("method", "path", "body", "text"), [
    ("DELETE", "", None, f"Failed to find image {MISSING} to delete"),
    ("GET", "/members", None, f"Image {MISSING} not found."),
    ("POST", "/members", {"member": "m"}, f"Image {MISSING} not found."),
    ("GET", "/members/m", None, f"Image {MISSING} not found."),
    ("PUT", "/members/m", {"status": "accepted"}, f"Image {MISSING} not found."),
    ("DELETE", "/members/m", None, f"Image {MISSING} not found."),
    ("PUT", "/tags/t", None, f"Image {MISSING} not found."),
    ("DELETE", "/tags/t", None, f"Image {MISSING} not found."),
])
def test_not_found_texts(
    client: Client, method: str, path: str, body: object, text: str
) -> None:
    resp = client.request(method, f"/v2/images/{MISSING}{path}", json_body=body,
                          headers={"Accept": "application/json"})
    assert resp.status_int == 404
    assert resp.json["message"].startswith(text + "<br />")


def test_missing_tag_is_a_bare_404(client: Client) -> None:
    image = client.create(name="t")
    resp = client.delete(f"/v2/images/{image['id']}/tags/nope",
                         headers={"Accept": "application/json"})
    assert resp.status_int == 404
    assert resp.json["message"].startswith("The resource could not be found.")


def test_policy_denials_pass_through_member_and_tag_controllers(client: Client) -> None:
    from .conftest import BOB

    image = client.create(name="s", visibility="shared")
    assert client.post(f"/v2/images/{image['id']}/members", {"member": "bob-project"}
                       ).status_int == 200
    headers = {"Accept": "application/json"}
    resp = client.post(f"/v2/images/{image['id']}/members", {"member": "x"}, as_=BOB,
                       headers=headers)
    assert resp.status_int == 403
    assert resp.json["message"].startswith("You are not authorized to complete add_member")
    resp = client.request("DELETE", f"/v2/images/{image['id']}/members/bob-project", as_=BOB,
                          headers=headers)
    assert resp.json["message"].startswith("You are not authorized to complete delete_member")
    reader = {**client.default, "X-Roles": "reader"}
    resp = client.put(f"/v2/images/{image['id']}/tags/x", as_=reader, headers=headers)
    assert resp.status_int == 403
    assert resp.json["message"].startswith("You are not authorized to complete modify_image")


def test_bad_member_status_text(client: Client) -> None:
    from .conftest import BOB

    image = client.create(name="s", visibility="shared")
    client.post(f"/v2/images/{image['id']}/members", {"member": "bob-project"})
    resp = client.put(f"/v2/images/{image['id']}/members/bob-project",
                      json_body={"status": "x"}, as_=BOB, headers={"Accept": "application/json"})
    assert resp.status_int == 400
    assert resp.json["message"].startswith(
        'Incorrect request: Status must be "pending", "accepted" or "rejected".')


def test_owner_cannot_set_member_status_policy_text(client: Client) -> None:
    image = client.create(name="s", visibility="shared")
    client.post(f"/v2/images/{image['id']}/members", {"member": "bob-project"})
    resp = client.put(f"/v2/images/{image['id']}/members/bob-project",
                      json_body={"status": "accepted"}, headers={"Accept": "application/json"})
    assert resp.status_int == 403
    assert resp.json["message"].startswith(
        "You are not authorized to complete modify_member action.")


def test_create_for_another_owner_text(client: Client) -> None:
    resp = client.post("/v2/images", {"owner": "someone-else"},
                       headers={"Accept": "application/json"})
    assert resp.status_int == 403
    # Glance 33 passes this message positionally: webob's explanation, then it as the detail
    assert resp.json["message"] == (
        "Access was denied to this resource.<br /><br />\n"
        "You are not permitted to create images owned by 'someone-else'\n\n")
