"""``/v2/tasks`` and ``/v2/tasks/{id}``: the tasks of interoperable imports.

As in Glance 33 the whole API is behind the ``tasks_api_access`` rule (admins by default).
``POST /v2/tasks`` creates Glance's legacy ``import`` task (see
:mod:`glance_domain.importing.legacy`): the body needs ``type`` and ``input`` and must match the
task schema (no other keys than its properties); the answer is 201 with the pending task and
its ``Location``. Tasks cannot be deleted (405; they expire ``task_time_to_live`` hours after
finishing). Listing pages by ``limit_param_default``, capped at ``api_limit_max``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import webob.exc

from glance_domain.model.task import TASK_STATUSES, Task
from glance_domain_adapters.wsgi.errors import bad_request
from glance_domain_adapters.wsgi.http import Request, Response, json_response
from glance_domain_adapters.wsgi.resource import Resource, read_json
from glance_domain_adapters.wsgi.schemas import SchemaValidator, task_schema
from glance_domain_adapters.wsgi.views import task_summary_view, task_view

SORT_KEYS = ("created_at", "updated_at", "id", "type", "status", "expires_at", "owner",
             "image_id", "request_id", "user_id")


def _access(req: Request) -> None:
    """Glance's ``tasks_api_access`` rule (the operator's policy), checked before anything
    else."""
    req.service.check_tasks_access()


REQUIRED_ON_CREATE = ("type", "input")
#: Query parameters that filter the task list (Glance: any parameter naming a task column).
FILTER_COLUMNS = ("id", "type", "status", "owner", "image_id", "request_id", "user_id")


def task_create_schema() -> dict[str, Any]:
    """The task schema as Glance validates a create body: only its properties allowed (the
    required ``type`` and ``input`` are checked first, with Glance's own message)."""
    schema = task_schema()
    schema["additionalProperties"] = False
    return schema


def _task_validator() -> SchemaValidator:
    return SchemaValidator("task", task_create_schema())


class TasksController:
    def __init__(self, default_limit: int = 25, max_limit: int = 1000) -> None:
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.validator = _task_validator()

    def index(self, req: Request) -> dict[str, Any]:
        _access(req)
        # Repeated parameters as Glance reads them: the paging parameters take their first
        # value; a filter is validated on its last value and every value must match.
        pairs = list(req.params)
        paging: dict[str, str] = {}
        for key, value in pairs:
            if key in ("limit", "marker", "sort_key", "sort_dir"):
                paging.setdefault(key, value)
        last = dict(pairs)
        status = last.get("status")
        if status and status not in TASK_STATUSES:
            raise bad_request(f"Invalid status value: {status}")
        task_type = last.get("type")
        # Glance 33 filters by the legacy type only (api_image_import is refused, 400)
        if task_type and task_type != "import":
            raise bad_request(f"Invalid type value: {task_type}")
        sort_key = paging.get("sort_key", "created_at")
        if sort_key not in SORT_KEYS:
            raise bad_request("Sort key supplied was not valid.")
        sort_dir = paging.get("sort_dir", "desc")
        if sort_dir not in ("asc", "desc"):
            raise bad_request(f"Invalid sort direction: {sort_dir}")
        limit_param = paging.get("limit")
        limit = self.default_limit
        if limit_param is not None:
            try:
                limit = int(limit_param)
            except ValueError:
                raise bad_request("limit param must be an integer") from None
            if limit < 0:
                raise bad_request("limit param must be positive")
        limit = min(limit, self.max_limit)
        # every other parameter naming a task column filters by equality (an empty value
        # too: it matches nothing); other parameters are ignored
        filters = [(k, v) for k, v in pairs if k in FILTER_COLUMNS]
        visible = req.service.list_tasks()
        tasks = [t for t in visible if all(getattr(t, k) == v for k, v in filters)]

        def order(task: Task) -> tuple[Any, ...]:
            return (_sort_value(task, sort_key), task.created_at, task.id)

        descending = sort_dir == "desc"
        tasks.sort(key=order, reverse=descending)
        marker = paging.get("marker")
        if marker is not None:
            # keyset paging from the marker, which the filters need not match (as Glance)
            found = next((t for t in visible if t.id == marker), None)
            if found is None:
                if not _is_uuid(marker):
                    raise bad_request("Invalid marker format")
                raise bad_request(f"Task with the given id {marker} was not found")
            after = order(found)
            tasks = [t for t in tasks
                     if (order(t) < after if descending else order(t) > after)]
        page = tasks[:limit]
        result: dict[str, Any] = {"tasks": page}
        if page and len(page) == limit:
            result["next_marker"] = page[-1].id
        return result

    def get(self, req: Request) -> Task:
        _access(req)
        return req.service.get_task(req.urlvars["task_id"])

    def delete(self, req: Request) -> None:
        _access(req)
        raise webob.exc.HTTPMethodNotAllowed(
            explanation="This operation is currently not permitted on Glance Tasks. They are "
            "auto deleted after reaching the time based on their expires_at property.",
            headers=[("Allow", "GET")], body_template="${explanation}")

    def create(self, req: Request) -> Task:
        _access(req)
        body = read_json(req)
        for key in REQUIRED_ON_CREATE:
            if key not in body:
                raise bad_request(f"Task '{key}' is required")
        if not isinstance(body, dict):  # a list naming both keys (Glance answers 500 there)
            raise bad_request("Request body must be a JSON object.")
        message = self.validator.error(body)
        if message is not None:
            raise bad_request(message)
        return req.service.create_task(body["type"], body["input"])


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _sort_value(task: Task, key: str) -> tuple[bool, Any]:
    """Sortable whatever the values: unset ones first ascending, last descending (as NULLs
    sort in Glance's SQLite)."""
    value = getattr(task, key)
    return (False, "") if value is None else (True, value)


class TasksSerializer:
    def index(self, req: Request, result: dict[str, Any]) -> Response:
        # Glance's links: the last value of each parameter, re-encoded, without the marker
        params = dict(req.params)
        params.pop("marker", None)
        query = urlencode(params)
        body: dict[str, Any] = {
            "tasks": [task_summary_view(t) for t in result["tasks"]],
            "first": "/v2/tasks" + (f"?{query}" if query else ""),
            "schema": "/v2/schemas/tasks",
        }
        if "next_marker" in result:
            params["marker"] = result["next_marker"]
            body["next"] = "/v2/tasks?" + urlencode(params)
        return json_response(body)

    def get(self, req: Request, task: Task) -> Response:
        return json_response(task_view(task))

    def create(self, req: Request, task: Task) -> Response:
        response = json_response(task_view(task), status=201)
        response.headers.append(("Location", f"{req.application_url}/v2/tasks/{task.id}"))
        return response


def create_resource(default_limit: int = 25, max_limit: int = 1000) -> Resource:
    return Resource("tasks", TasksController(default_limit, max_limit),
                    serializer=TasksSerializer())
