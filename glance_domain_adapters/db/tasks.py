"""``SqlTaskRepository``: import tasks in Glance's ``tasks`` / ``task_info`` tables.

Every API host (and every worker) sharing the image database sees the same tasks, so
``GET /v2/tasks/{id}`` answers the same everywhere and an image's import lock naming a task
started on another host is judged by that task's real state, never taken as stale because a
local record is missing.

Expiry follows Glance: a finished task carries ``expires_at`` (finish time plus
``task_time_to_live`` hours); from then on ``get`` and ``list`` no longer return it, and a
listing marks such rows deleted (``deleted``, ``deleted_at``) so ``glance-domain db purge``
removes them later. Glance's ``owner`` column is NOT NULL: a task created by a caller without a
project is stored with owner ``""`` and read back as None.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, Row, and_, false, insert, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import ColumnElement

from glance_domain.clock import SystemClock
from glance_domain.errors import Duplicate, NotFound
from glance_domain.model.task import Task
from glance_domain.ports import Clock
from glance_domain_adapters.db.engine import WRITE_OPTION
from glance_domain_adapters.db.errors import retry_on_deadlock, translated
from glance_domain_adapters.db.mapping import to_db_time
from glance_domain_adapters.db.task_tables import task_info, tasks

_COLUMNS = (tasks, task_info.c.input, task_info.c.result, task_info.c.message)
_JOINED = tasks.outerjoin(task_info, task_info.c.task_id == tasks.c.id)


def _not_found(task_id: str) -> NotFound:
    return NotFound(f"Task with the given id {task_id} was not found")


def _encode(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value))


def _decode(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _task_values(task: Task) -> dict[str, Any]:
    return {
        "type": task.type, "status": task.status, "owner": task.owner or "",
        "expires_at": to_db_time(task.expires_at), "image_id": task.image_id,
        "request_id": task.request_id, "user_id": task.user_id,
    }


def _info_values(task: Task) -> dict[str, Any]:
    return {"input": _encode(task.input), "result": _encode(task.result),
            "message": task.message}


def _task_from_row(row: Row[Any]) -> Task:
    return Task(
        id=row.id, type=row.type, status=row.status, owner=row.owner or None,
        image_id=row.image_id, user_id=row.user_id, request_id=row.request_id,
        input=_decode(row.input) or {}, result=_decode(row.result),
        message=row.message or "", created_at=row.created_at,
        updated_at=row.updated_at or row.created_at, expires_at=row.expires_at,
    )


class SqlTaskRepository:
    """The domain's ``TaskRepository`` port on the image database (SQLAlchemy Core)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translated(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _now(self) -> Any:
        return to_db_time(self.clock.now())

    def _live(self) -> ColumnElement[bool]:
        """Rows neither deleted nor expired."""
        return and_(
            tasks.c.deleted == false(),
            or_(tasks.c.expires_at.is_(None), tasks.c.expires_at >= self._now()),
        )

    @retry_on_deadlock()
    def add(self, task: Task) -> Task:
        try:
            with self._write() as conn:
                conn.execute(insert(tasks).values(
                    id=task.id, created_at=to_db_time(task.created_at),
                    updated_at=to_db_time(task.updated_at), deleted=False,
                    **_task_values(task)))
                conn.execute(insert(task_info).values(task_id=task.id, **_info_values(task)))
        except sa_exc.IntegrityError:
            raise Duplicate(f"Task with id {task.id} already exists.") from None
        return task

    def get(self, task_id: str) -> Task:
        with self._read() as conn:
            row = conn.execute(
                select(*_COLUMNS).select_from(_JOINED)
                .where(tasks.c.id == task_id, self._live())
            ).first()
        if row is None:
            raise _not_found(task_id)
        return _task_from_row(row)

    @retry_on_deadlock()
    def save(self, task: Task) -> Task:
        now = self.clock.now()
        with self._write() as conn:
            changed = conn.execute(
                update(tasks)
                .where(tasks.c.id == task.id, tasks.c.deleted == false())
                .values(updated_at=to_db_time(now), **_task_values(task))
            ).rowcount
            if not changed:
                raise _not_found(task.id)
            info = _info_values(task)
            if not conn.execute(
                update(task_info).where(task_info.c.task_id == task.id).values(**info)
            ).rowcount:  # a task Glance wrote without its info row
                conn.execute(insert(task_info).values(task_id=task.id, **info))
        return attrs.evolve(task, updated_at=now)

    def list(
        self, *, owner: str | None = None, image_id: str | None = None
    ) -> builtins.list[Task]:
        self._expire()
        query = select(*_COLUMNS).select_from(_JOINED).where(self._live())
        if owner is not None:
            query = query.where(tasks.c.owner == owner)
        if image_id is not None:
            query = query.where(tasks.c.image_id == image_id)
        query = query.order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
        with self._read() as conn:
            return [_task_from_row(row) for row in conn.execute(query)]

    def _expire(self) -> None:
        """Mark expired tasks deleted (as Glance does when listing), so purge finds them.

        A read first: the write transaction is only taken when there is something to mark.
        """
        now = self._now()
        expired = and_(tasks.c.deleted == false(), tasks.c.expires_at < now)
        with self._read() as conn:
            if conn.execute(select(tasks.c.id).where(expired).limit(1)).first() is None:
                return
        self._mark_deleted(expired, now)

    @retry_on_deadlock()
    def _mark_deleted(self, expired: ColumnElement[bool], now: Any) -> None:
        with self._write() as conn:
            conn.execute(update(tasks).where(expired).values(deleted=True, deleted_at=now))


#: The name the persistence brief uses for it.
SqlTaskStore = SqlTaskRepository
