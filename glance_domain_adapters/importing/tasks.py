"""``TaskRepository`` as JSON files in a directory (``<data_dir>/tasks`` by default).

Tasks are few (one per import) and short-lived (they expire ``task_time_to_live`` hours after
finishing), so one small file per task, replaced atomically on each save, is enough and is
shared by the worker processes of one host. Expired files are removed when tasks are listed.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import os
import tempfile
import uuid
from typing import Any

import attrs

from glance_domain.clock import SystemClock
from glance_domain.errors import Duplicate, NotFound
from glance_domain.model.task import Task
from glance_domain.ports import Clock


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def to_document(task: Task) -> dict[str, Any]:
    return {
        "id": task.id, "type": task.type, "status": task.status, "owner": task.owner,
        "image_id": task.image_id, "user_id": task.user_id, "request_id": task.request_id,
        "input": dict(task.input),
        "result": None if task.result is None else dict(task.result),
        "message": task.message, "created_at": _time(task.created_at),
        "updated_at": _time(task.updated_at), "expires_at": _time(task.expires_at),
    }


def from_document(doc: dict[str, Any]) -> Task:
    created = _parse_time(doc["created_at"])
    updated = _parse_time(doc["updated_at"])
    assert created is not None and updated is not None
    return Task(
        id=doc["id"], type=doc["type"], status=doc["status"], owner=doc.get("owner"),
        image_id=doc.get("image_id"), user_id=doc.get("user_id"),
        request_id=doc.get("request_id"), input=doc.get("input") or {},
        result=doc.get("result"), message=doc.get("message") or "",
        created_at=created, updated_at=updated, expires_at=_parse_time(doc.get("expires_at")),
    )


class FileTaskRepository:
    """Tasks as ``<directory>/<task_id>.json``."""

    def __init__(self, directory: str, clock: Clock | None = None) -> None:
        self.directory = os.path.abspath(directory)
        self.clock = clock or SystemClock()
        os.makedirs(self.directory, exist_ok=True)

    def _path(self, task_id: str) -> str:
        try:
            return os.path.join(self.directory, str(uuid.UUID(task_id)) + ".json")
        except ValueError:
            raise NotFound(f"Task with the given id {task_id} was not found") from None

    def _write(self, task: Task) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".task-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(to_document(task), out)
            os.replace(tmp, self._path(task.id))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _read(self, path: str) -> Task | None:
        try:
            with open(path, encoding="utf-8") as f:
                return from_document(json.load(f))
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def _expired(self, task: Task) -> bool:
        return task.expires_at is not None and task.expires_at < self.clock.now()

    def add(self, task: Task) -> Task:
        if os.path.exists(self._path(task.id)):
            raise Duplicate(f"Task with id {task.id} already exists.")
        self._write(task)
        return task

    def get(self, task_id: str) -> Task:
        task = self._read(self._path(task_id))
        if task is None or self._expired(task):
            raise NotFound(f"Task with the given id {task_id} was not found")
        return task

    def save(self, task: Task) -> Task:
        self.get(task.id)
        task = attrs.evolve(task, updated_at=self.clock.now())
        self._write(task)
        return task

    def list(
        self, *, owner: str | None = None, image_id: str | None = None
    ) -> builtins.list[Task]:
        tasks = []
        for name in os.listdir(self.directory):
            if not name.endswith(".json"):
                continue
            path = os.path.join(self.directory, name)
            task = self._read(path)
            if task is None:
                continue
            if self._expired(task):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                continue
            if (owner is None or task.owner == owner) and (
                    image_id is None or task.image_id == image_id):
                tasks.append(task)
        return sorted(tasks, key=lambda t: (t.created_at, t.id), reverse=True)
