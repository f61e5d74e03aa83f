"""``POST /v2/tasks``: Glance's legacy ``import`` task over HTTP, against a 127.0.0.1 web
server, the SQL task repository (SQLite) and a thread-pool executor; plus the request checks
(admins only, body, schema, ``import_from``), failures that revert, and listing limits."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glance_domain.model.task import Task
from tests.wsgi.test_import import DATA, Env, web  # noqa: F401 (the ``web`` fixture)

from .conftest import ADMIN, ALICE, Client, identity

PROPS = {"name": "legacy", "disk_format": "raw", "container_format": "bare",
         "min_ram": 64, "os_distro": "cirros"}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    yield e
    e.executor.shutdown()


def _import(env: Env, uri: str, props: dict[str, Any] | None = None) -> Any:
    body = {"type": "import", "input": {"import_from": uri, "import_from_format": "raw",
                                        "image_properties": props or dict(PROPS)}}
    return env.client.post("/v2/tasks", body, as_=ADMIN)


def _finished(env: Env, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        task = env.client.get(f"/v2/tasks/{task_id}", as_=ADMIN).json
        if task["status"] in ("success", "failure") or time.monotonic() > deadline:
            return dict(task)
        time.sleep(0.02)


def _images(env: Env) -> list[dict[str, Any]]:
    return list(env.client.get("/v2/images", as_=ADMIN).json["images"])


def test_legacy_import_creates_and_fills_an_image(env: Env, web: str) -> None:  # noqa: F811
    resp = _import(env, f"{web}/image.raw")
    assert resp.status_int == 201, resp.body
    created = resp.json
    assert resp.headers["Location"] == f"http://localhost/v2/tasks/{created['id']}"
    assert created["type"] == "import" and created["status"] == "pending"
    assert created["input"]["import_from"] == f"{web}/image.raw"
    assert created["owner"] == "admin-project" and created["user_id"] == "admin-user"
    assert created["self"] == f"/v2/tasks/{created['id']}"
    assert created["schema"] == "/v2/schemas/task" and "expires_at" not in created

    task = _finished(env, created["id"])
    assert task["status"] == "success", task["message"]
    image_id = task["result"]["image_id"]
    assert task["expires_at"]
    image = env.client.get(f"/v2/images/{image_id}", as_=ADMIN).json
    assert image["status"] == "active" and image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert (image["name"], image["min_ram"], image["os_distro"]) == ("legacy", 64, "cirros")
    assert image["owner"] == "admin-project"
    data = env.client.get(f"/v2/images/{image_id}/file", as_=ADMIN)
    assert data.body == DATA


def test_a_failed_download_leaves_no_image(env: Env, web: str) -> None:  # noqa: F811
    resp = _import(env, f"{web}/missing.raw")
    assert resp.status_int == 201
    task = _finished(env, resp.json["id"])
    assert task["status"] == "failure" and task["message"]
    assert task["result"] is None
    assert _images(env) == []


def test_bad_image_properties_fail_the_task(env: Env, web: str) -> None:  # noqa: F811
    resp = _import(env, f"{web}/image.raw", {"name": "x", "status": "active"})
    assert resp.status_int == 201
    task = _finished(env, resp.json["id"])
    assert task["status"] == "failure" and "status" in task["message"]
    assert _images(env) == []


def test_other_task_types_are_accepted_then_fail(env: Env) -> None:
    resp = env.client.post("/v2/tasks", {"type": "api_image_import", "input": {}}, as_=ADMIN)
    assert resp.status_int == 201 and resp.json["type"] == "api_image_import"
    task = _finished(env, resp.json["id"])
    assert task["status"] == "failure"
    assert task["message"] == "Missing required 'image_id' field"
    assert "image_id" not in task and "image_id" not in resp.json


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (None, "Body expected in request."),
        ({}, "Task 'type' is required"),
        ({"type": "import"}, "Task 'input' is required"),
        (["type", "input"], "must be a JSON object"),
        ({"type": "export", "input": {}}, "does not match schema 'task'"),
        ({"type": "import", "input": "x"}, "does not match schema 'task'"),
        ({"type": "import", "input": {}, "color": "red"}, "does not match schema 'task'"),
        ({"type": "import", "input": {}}, "Invalid location: None"),
        ({"type": "import", "input": {"import_from": "file:///etc/passwd"}},
         "File based imports are not allowed"),
        ({"type": "import", "input": {"import_from": "ftp://127.0.0.1/x"}},
         "The given uri is not valid"),
    ],
)
def test_bad_requests_are_400_and_record_nothing(env: Env, body: Any, text: str) -> None:
    resp = env.client.post("/v2/tasks", body, as_=ADMIN)
    assert resp.status_int == 400, resp.body
    assert text in resp.text
    assert env.client.get("/v2/tasks", as_=ADMIN).json["tasks"] == []


def test_malformed_json_is_400(env: Env) -> None:
    resp = env.client.request("POST", "/v2/tasks", body=b"{nope", as_=ADMIN,
                              content_type="application/json")
    assert resp.status_int == 400 and "Malformed JSON" in resp.text


def test_filtered_urls_are_refused(tmp_path: Path, web: str) -> None:  # noqa: F811
    env = Env(tmp_path, allow_loopback=False)
    try:
        resp = _import(env, f"{web}/image.raw")
        assert resp.status_int == 400
        assert "URI for legacy import task does not pass filtering" in resp.text
    finally:
        env.executor.shutdown()


def test_only_admins_may_create_tasks(env: Env, web: str) -> None:  # noqa: F811
    body = {"type": "import", "input": {"import_from": f"{web}/image.raw"}}
    resp = env.client.post("/v2/tasks", body)
    assert resp.status_int == 403 and "tasks_api_access" in resp.text
    assert env.client.get("/v2/tasks", as_=ADMIN).json["tasks"] == []


def test_listing_pages_by_limit_param_default_capped_by_api_limit_max(
    tmp_path: Path, web: str,  # noqa: F811
) -> None:
    env = Env(tmp_path, limit_param_default=2, api_limit_max=3)
    try:
        for _ in range(4):
            assert _import(env, f"{web}/missing.raw").status_int == 201
        first = env.client.get("/v2/tasks", as_=ADMIN).json
        assert len(first["tasks"]) == 2 and "next" in first
        assert len(env.client.get("/v2/tasks?limit=10", as_=ADMIN).json["tasks"]) == 3
    finally:
        env.executor.shutdown()


def test_the_operators_tasks_api_access_rule_decides(tmp_path: Path, web: str) -> None:  # noqa: F811
    """An operator's policy.yaml opening the tasks API to members is obeyed (not a hard-coded
    admin check)."""
    with _tasks_open_to_members(tmp_path) as client:
        assert client.get("/v2/tasks").status_int == 200
        resp = client.post("/v2/tasks", {"type": "import",
                                          "input": {"import_from": f"{web}/image.raw"}})
        assert resp.status_int == 201 and resp.json["owner"] == "alice-project"
        reader = client.get("/v2/tasks", as_=identity("alice-project", "reader"))
        assert reader.status_int == 403 and "tasks_api_access" in reader.text


def test_listing_filters_links_and_delete_as_glance(env: Env, web: str) -> None:  # noqa: F811
    created = _import(env, f"{web}/missing.raw").json
    _finished(env, created["id"])
    get = env.client.get
    assert [t["id"] for t in get("/v2/tasks?owner=admin-project", as_=ADMIN).json["tasks"]] \
        == [created["id"]]
    assert get("/v2/tasks?owner=someone-else", as_=ADMIN).json["tasks"] == []
    assert get("/v2/tasks?status=", as_=ADMIN).json["tasks"] == []  # '' matches nothing
    assert len(get("/v2/tasks?type=import&color=red", as_=ADMIN).json["tasks"]) == 1
    refused = get("/v2/tasks?type=api_image_import", as_=ADMIN)
    assert refused.status_int == 400 and "Invalid type value" in refused.text
    page = get("/v2/tasks?sort_key=status&sort_key=type&limit=1&sort=a:b", as_=ADMIN).json
    assert page["first"] == "/v2/tasks?sort_key=type&limit=1&sort=a%3Ab"
    assert page["next"] == f"/v2/tasks?sort_key=type&limit=1&sort=a%3Ab&marker={created['id']}"
    resp = env.client.delete(f"/v2/tasks/{created['id']}", as_=ADMIN)
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET"
    assert "They are auto deleted after reaching the time" in resp.text


def test_repeated_task_list_parameters(env: Env, web: str) -> None:  # noqa: F811
    for _ in range(3):
        _finished(env, _import(env, f"{web}/missing.raw").json["id"])
    get = env.client.get
    assert len(get("/v2/tasks?limit=1&limit=3", as_=ADMIN).json["tasks"]) == 1  # first value
    assert get("/v2/tasks?limit=x&limit=2", as_=ADMIN).status_int == 400
    assert get("/v2/tasks?sort_dir=bogus&sort_dir=asc", as_=ADMIN).status_int == 400
    assert get("/v2/tasks?status=success&status=failure", as_=ADMIN).json["tasks"] == []
    assert len(get("/v2/tasks?status=failure&status=failure", as_=ADMIN).json["tasks"]) == 3


def test_sorting_by_an_unset_column_and_a_marker_outside_the_filters(
    env: Env, web: str,  # noqa: F811
) -> None:
    finished = _finished(env, _import(env, f"{web}/missing.raw").json["id"])
    now = dt.datetime.now(dt.UTC)
    pending = {"id": str(uuid.uuid4())}  # never run: no expires_at
    env.gateway.importer.tasks.add(Task(id=pending["id"], type="import", owner="admin-project",
                                        created_at=now, updated_at=now))
    for direction in ("asc", "desc"):
        resp = env.client.get(f"/v2/tasks?sort_key=expires_at&sort_dir={direction}",
                              as_=ADMIN)
        assert resp.status_int == 200, resp.text
        assert {t["id"] for t in resp.json["tasks"]} == {finished["id"], pending["id"]}
    for key in ("image_id", "user_id", "request_id"):
        assert env.client.get(f"/v2/tasks?sort_key={key}", as_=ADMIN).status_int == 200
    # the marker need not match the filters: paging goes on from its place in the order
    resp = env.client.get(f"/v2/tasks?type=import&sort_key=created_at&sort_dir=asc"
                          f"&marker={pending['id']}", as_=ADMIN)
    assert resp.status_int == 200 and resp.json["tasks"] == []


def test_members_see_only_their_projects_tasks(tmp_path: Path, web: str) -> None:  # noqa: F811
    with _tasks_open_to_members(tmp_path) as client:
        mine = client.post("/v2/tasks", {"type": "import",
                                          "input": {"import_from": f"{web}/image.raw"}}).json
        bob = identity("bob-project", user="bob")
        assert client.get(f"/v2/tasks/{mine['id']}", as_=bob).status_int == 404
        assert client.get("/v2/tasks", as_=bob).json["tasks"] == []
        assert client.get("/v2/tasks?owner=alice-project", as_=bob).json["tasks"] == []
        assert [t["id"] for t in client.get("/v2/tasks").json["tasks"]] == [mine["id"]]


@contextlib.contextmanager
def _tasks_open_to_members(tmp_path: Path) -> Iterator[Client]:
    """A client (Alice) of an app whose operator policy.yaml opens the tasks API to members."""
    from glance_domain_adapters import bootstrap
    from glance_domain_adapters.policy.enforcer import make_policy
    from glance_domain_adapters.wsgi.app import make_app

    (tmp_path / "policy.yaml").write_text('"tasks_api_access": "role:member"\n')
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n")
    env = Env(tmp_path)
    try:
        env.gateway.policy = make_policy(bootstrap.load_config(config_files=[str(conf_file)]))
        yield Client(make_app(env.gateway, env.gateway.settings), ALICE)
    finally:
        env.executor.shutdown()
