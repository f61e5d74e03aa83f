"""Behaviour of Glance 33 found by the ``extra`` area of tools/conformance.py (parameters and
values Nova, Horizon, openstacksdk and the CLIs send): each expectation was observed on a real
Glance 33.0.0."""

from __future__ import annotations

from .conftest import ADMIN, ALICE, Client, identity

READER = identity("alice-project", "reader", "alice-reader")


def _names(resp: object) -> set[str]:
    return {i["name"] for i in resp.json["images"]}  # type: ignore[attr-defined]


def test_non_numeric_integer_filter_is_a_400(client: Client) -> None:
    """Glance 33 lists nothing for these; issue 12 asks for the 400 the API reference implies
    (the filters are integers)."""
    client.create(name="a", min_ram=64)
    for query in ("min_ram=abc", "min_ram=gte:64", "min_disk=1.5", "size=x"):
        resp = client.get(f"/v2/images?{query}")
        assert resp.status_int == 400, query
        assert "non-negative integer" in resp.text, query
    assert _names(client.get("/v2/images?min_ram=64")) == {"a"}


def test_time_filters_take_a_year_or_a_year_and_month(client: Client) -> None:
    client.create(name="a")
    for value in ("2000", "2000-01"):
        resp = client.get(f"/v2/images?created_at=gte:{value}")
        assert resp.status_int == 200, value
        assert _names(resp) == {"a"}, value
    assert _names(client.get("/v2/images?created_at=lt:2000")) == set()
    assert client.get("/v2/images?created_at=gte:2000-13").status_int == 400


def test_admin_may_page_from_a_deleted_image(client: Client) -> None:
    first = client.create(name="first")
    gone = client.create(name="gone")
    client.create(name="last")
    assert client.delete(f"/v2/images/{gone['id']}").status_int == 204
    resp = client.get(f"/v2/images?marker={gone['id']}", as_=ADMIN)
    assert resp.status_int == 200
    assert _names(resp) == {"first"}  # newest first: only the older image follows
    assert first["name"] == "first"
    assert client.get(f"/v2/images?marker={gone['id']}", as_=ALICE).status_int == 400


def test_four_byte_characters_are_refused_in_names_and_properties(client: Client) -> None:
    image = client.create(name="a")
    emoji = "\U0001F600"
    cases = (
        ([{"op": "replace", "path": "/name", "value": emoji}],
         "Name can't contain 4 byte unicode characters."),
        ([{"op": "add", "path": "/four", "value": emoji}],
         "Four can't contain 4 byte unicode characters."),
        ([{"op": "add", "path": f"/{emoji}", "value": "x"}],
         "Property names can't contain 4 byte unicode."),
    )
    for ops, message in cases:
        resp = client.patch(f"/v2/images/{image['id']}", ops)
        assert resp.status_int == 400, ops
        assert message in resp.text, resp.text
    resp = client.post("/v2/images", {"name": emoji})
    assert resp.status_int == 400
    assert "Name can't contain 4 byte unicode characters." in resp.text
    ok = client.patch(f"/v2/images/{image['id']}",
                      [{"op": "replace", "path": "/name", "value": "\u00e9t\u00e9 \u2603"}])
    assert ok.status_int == 200


def test_publicize_rule_is_checked_before_modify_image(client: Client) -> None:
    image = client.create(name="a")
    resp = client.patch(f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": "/visibility", "value": "public"}],
                        as_=READER)
    assert resp.status_int == 403
    assert "publicize_image" in resp.text


def test_inner_repeated_slashes_collapse_but_a_trailing_pair_does_not(client: Client) -> None:
    image = client.create(name="a")
    assert client.get("/v2//images").status_int == 200
    assert client.get(f"/v2//images//{image['id']}").json["id"] == image["id"]
    assert client.get("/v2/schemas//image").status_int == 200
    assert client.get("/v2/images//").status_int == 404


def test_setting_public_again_still_needs_publicize(client: Client) -> None:
    image = client.create(name="a")
    path = f"/v2/images/{image['id']}"
    public = [{"op": "replace", "path": "/visibility", "value": "public"}]
    assert client.patch(path, public, as_=ADMIN).status_int == 200
    resp = client.patch(path, public)  # the owner, a member: no publicize_image
    assert resp.status_int == 403
    assert "publicize_image" in resp.text
    renamed = client.patch(path, [{"op": "replace", "path": "/name", "value": "b"}])
    assert renamed.status_int == 200
    community_then_private = [{"op": "replace", "path": "/visibility", "value": "community"},
                              {"op": "replace", "path": "/visibility", "value": "private"}]
    assert client.patch(path, community_then_private, as_=ADMIN).json["visibility"] == "private"


def test_integral_float_is_an_integer(client: Client) -> None:
    image = client.create(name="a", min_ram=1.0)
    assert image["min_ram"] == 1
    resp = client.post("/v2/images", {"name": "b", "min_ram": 1.5})
    assert resp.status_int == 400


def test_four_byte_tags_are_refused_on_create_and_patch(client: Client) -> None:
    message = "Param values can't contain 4 byte unicode."
    resp = client.post("/v2/images", {"name": "a", "tags": ["\U0001F600"]})
    assert resp.status_int == 400
    assert message in resp.text
    image = client.create(name="b")
    resp = client.patch(f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": "/tags", "value": ["ok", "\U0001F600"]}])
    assert resp.status_int == 400
    assert message in resp.text


def test_member_status_of_the_wrong_type_gets_glance_message(client: Client) -> None:
    image = client.create(name="a", visibility="shared")
    bob = identity("bob-project", user="bob")
    assert client.post(f"/v2/images/{image['id']}/members",
                       {"member": "bob-project"}).status_int == 200
    for status in (None, 5):
        resp = client.put(f"/v2/images/{image['id']}/members/bob-project",
                          json_body={"status": status}, as_=bob)
        assert resp.status_int == 400
        assert 'Incorrect request: Status must be "pending", "accepted" or "rejected".' \
            in resp.text


def test_policy_hidden_image_is_a_bare_404_invisible_one_names_the_id(client: Client) -> None:
    image = client.create(name="a")
    no_reader = identity("alice-project", "auditor", "alice")  # get_image refused by policy
    resp = client.get(f"/v2/images/{image['id']}", as_=no_reader)
    assert resp.status_int == 404
    assert "No image found" not in resp.text
    assert "The resource could not be found." in resp.text
    bob = identity("bob-project", user="bob")
    resp = client.get(f"/v2/images/{image['id']}", as_=bob)  # not visible at all
    assert resp.status_int == 404
    assert f"No image found with ID {image['id']}" in resp.text


def test_task_list_and_show_errors_use_glance_words(client: Client) -> None:
    missing = "3b1a7d0e-0000-4000-8000-00000000abcd"
    for query, message in (
        ("sort_key=bogus", "Sort key supplied was not valid."),
        ("marker=abc", "Invalid marker format"),
        (f"marker={missing}", f"Task with the given id {missing} was not found"),
    ):
        resp = client.get(f"/v2/tasks?{query}", as_=ADMIN)
        assert resp.status_int == 400, query
        assert message in resp.text, resp.text
    resp = client.get(f"/v2/tasks/{missing}", as_=ADMIN)
    assert resp.status_int == 404
    assert f"Could not find task {missing}" in resp.text
