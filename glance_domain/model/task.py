"""The Task entity: one asynchronous operation on an image (Glance's ``api_image_import``).

Tasks are immutable attrs records like images. Their status moves
``pending -> processing -> success | failure`` (``pending -> failure`` too, when a task cannot
start); ``expires_at`` is set when a task finishes (finished tasks are kept for
``task_time_to_live`` hours, as in Glance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from glance_domain.errors import InvalidStatusTransition

TASK_TYPE_IMPORT = "api_image_import"

#: task status -> statuses it may move to.
TASK_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"processing", "failure"}),
    "processing": frozenset({"success", "failure"}),
    "success": frozenset(),
    "failure": frozenset(),
}
TASK_STATUSES = tuple(TASK_TRANSITIONS)


def _freeze(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _freeze_optional(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if value is None else MappingProxyType(dict(value))


@attrs.frozen(kw_only=True, hash=False)
class Task:
    """An asynchronous operation, as Glance's tasks API shows it."""

    id: str
    type: str = TASK_TYPE_IMPORT
    status: str = "pending"
    owner: str | None = None
    image_id: str | None = None
    user_id: str | None = None
    request_id: str | None = None
    input: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze)
    result: Mapping[str, Any] | None = attrs.field(default=None, converter=_freeze_optional)
    message: str = ""
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("success", "failure")


def task_transition(task: Task, new_status: str, **changes: Any) -> Task:
    """A copy of ``task`` in ``new_status`` (plus ``changes``), after checking the table."""
    if new_status not in TASK_TRANSITIONS.get(task.status, frozenset()):
        raise InvalidStatusTransition(
            f"Task status transition from {task.status} to {new_status} is not allowed"
        )
    return attrs.evolve(task, status=new_status, **changes)
