"""``/v2/tasks`` and ``/v2/tasks/{id}``: the tasks of interoperable imports.

As in Glance 33 the whole API is behind the ``tasks_api_access`` rule (admins by default);
creating tasks through it (the deprecated ``import`` task type) is not supported, and tasks
cannot be deleted (405, they expire ``task_time_to_live`` hours after finishing).
"""

from __future__ import annotations

import uuid
from typing import Any

from glance_domain.model.task import TASK_STATUSES, Task
from glance_domain_adapters.wsgi.errors import bad_request, http_error
from glance_domain_adapters.wsgi.http import Request, Response, json_response
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.views import task_summary_view, task_view

SORT_KEYS = ("created_at", "updated_at", "id", "type", "status", "expires_at", "owner")


def _access(req: Request) -> None:
    """Glance's ``tasks_api_access`` check, made before anything else."""
    if not req.context.is_admin:
        raise http_error(403, "You are not authorized to complete tasks_api_access action.")


class TasksController:
    def index(self, req: Request) -> dict[str, Any]:
        _access(req)
        params = dict(req.params)
        status = params.get("status")
        if status is not None and status not in TASK_STATUSES:
            raise bad_request(f"Invalid status value: {status}")
        task_type = params.get("type")
        if task_type is not None and task_type not in ("import", "api_image_import"):
            raise bad_request(f"Invalid type value: {task_type}")
        sort_key = params.get("sort_key", "created_at")
        if sort_key not in SORT_KEYS:
            raise bad_request("Sort key supplied was not valid.")
        sort_dir = params.get("sort_dir", "desc")
        if sort_dir not in ("asc", "desc"):
            raise bad_request(f"Invalid sort direction: {sort_dir}")
        limit_param = params.get("limit")
        limit = 25
        if limit_param is not None:
            try:
                limit = int(limit_param)
            except ValueError:
                raise bad_request("limit param must be an integer") from None
            if limit < 0:
                raise bad_request("limit param must be positive")
        tasks = [t for t in req.service.list_tasks()
                 if (status is None or t.status == status)
                 and (task_type is None or t.type == task_type)]
        tasks.sort(key=lambda t: (_sort_value(t, sort_key), t.created_at, t.id),
                   reverse=sort_dir == "desc")
        marker = params.get("marker")
        if marker is not None:
            ids = [t.id for t in tasks]
            if marker not in ids:
                if not _is_uuid(marker):
                    raise bad_request("Invalid marker format")
                raise bad_request(f"Task with the given id {marker} was not found")
            tasks = tasks[ids.index(marker) + 1:]
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
        raise http_error(
            405, "This operation is currently not permitted on Glance Tasks. They are auto "
            "deleted after reaching the time based on their expires_at property.",
            headers={"Allow": "GET"})

    def create(self, req: Request) -> None:
        _access(req)
        raise http_error(501, "Creating tasks through the tasks API is not supported by this "
                              "service; use the image import API.")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _sort_value(task: Task, key: str) -> Any:
    value = getattr(task, key)
    return "" if value is None else value


class TasksSerializer:
    def index(self, req: Request, result: dict[str, Any]) -> Response:
        query = req.environ.get("QUERY_STRING", "")
        body: dict[str, Any] = {
            "tasks": [task_summary_view(t) for t in result["tasks"]],
            "first": "/v2/tasks" + (f"?{query}" if query else ""),
            "schema": "/v2/schemas/tasks",
        }
        if "next_marker" in result:
            params = [(k, v) for k, v in req.params if k != "marker"]
            params.append(("marker", result["next_marker"]))
            body["next"] = "/v2/tasks?" + "&".join(f"{k}={v}" for k, v in params)
        return json_response(body)

    def get(self, req: Request, task: Task) -> Response:
        return json_response(task_view(task))


def create_resource() -> Resource:
    return Resource("tasks", TasksController(), serializer=TasksSerializer())
