"""SQL task store beyond the contract: expiry marks rows deleted, purge removes old tasks, a
Glance database's task tables are adopted, and an import lock held by a task of another API
host is honoured."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, delete, func, select, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import make_url

from glance_domain.errors import Conflict
from glance_domain.importing import InlineExecutor, MemoryStagingArea, MemoryTaskRepository
from glance_domain.importing.importer import LOCK_KEY, Importer
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.model.image import Image
from glance_domain.model.task import Task, task_transition
from glance_domain.ports import TaskRepository
from glance_domain.settings import DomainSettings
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.task_tables import TASK_TABLES, task_info, tasks
from glance_domain_adapters.db.tasks import SqlTaskRepository
from tests.conftest import MARIADB_ADMIN_URL, _admin_engine, _unique_name

NOW = dt.datetime(2026, 1, 10, 12, 0, 0)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current


@pytest.fixture
def task_engine(db_engine: Engine) -> Engine:
    with db_engine.begin() as conn:
        for table in TASK_TABLES:
            conn.execute(delete(table))
    return db_engine


def _task(**changes: Any) -> Task:
    values: dict[str, Any] = {"id": str(uuid.uuid4()), "owner": "p1",
                              "image_id": str(uuid.uuid4()), "created_at": NOW,
                              "updated_at": NOW}
    values.update(changes)
    return Task(**values)


def _finished(store: TaskRepository, expires_at: dt.datetime) -> Task:
    task = store.add(_task(created_at=expires_at - dt.timedelta(hours=49)))
    return store.save(task_transition(task_transition(task, "processing"), "success",
                                      expires_at=expires_at))


def _rows(engine: Engine) -> dict[str, tuple[bool, dt.datetime | None]]:
    with engine.connect() as conn:
        return {r.id: (bool(r.deleted), r.deleted_at)
                for r in conn.execute(select(tasks.c.id, tasks.c.deleted, tasks.c.deleted_at))}


def _info_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(task_info)).scalar_one())


def test_listing_marks_expired_tasks_deleted_and_purge_removes_old_ones(
    task_engine: Engine,
) -> None:
    clock = Clock()
    store = SqlTaskRepository(task_engine, clock)
    running = store.add(_task())
    long_expired = _finished(store, NOW - dt.timedelta(days=40))  # never listed since
    recently_expired = _finished(store, NOW - dt.timedelta(days=1))
    live = _finished(store, NOW + dt.timedelta(days=3))
    deleted_by_glance = store.add(_task())  # Glance's task_delete: deleted, never expires
    with task_engine.begin() as conn:
        conn.execute(tasks.update().where(tasks.c.id == deleted_by_glance.id).values(
            deleted=True, deleted_at=NOW - dt.timedelta(days=31)))

    aware_now = NOW.replace(tzinfo=dt.UTC)
    assert migrate.purge(task_engine, 30, now=aware_now) == 0  # the image count
    assert long_expired.id not in _rows(task_engine)
    assert set(_rows(task_engine)) == {running.id, recently_expired.id, live.id}
    assert _info_count(task_engine) == 3

    assert {t.id for t in store.list()} == {running.id, live.id}
    rows = _rows(task_engine)
    assert rows[recently_expired.id] == (True, NOW)
    assert rows[running.id] == rows[live.id] == (False, None)

    later = aware_now + dt.timedelta(days=1)
    migrate.purge(task_engine, 2, now=later)  # expired two days before: kept
    assert recently_expired.id in _rows(task_engine)
    migrate.purge(task_engine, 0, now=later)
    assert set(_rows(task_engine)) == {running.id, live.id}
    assert _info_count(task_engine) == 2
    assert store.get(running.id) == running


def test_glance_task_tables_and_rows_are_adopted(tmp_path: Any) -> None:
    """A Glance database already has ``tasks``/``task_info``: the migration keeps them."""
    url = f"sqlite:///{tmp_path / 'glance.sqlite'}"
    engine = make_engine(url)
    glance_only = MetaData()
    for table in TASK_TABLES:
        table.to_metadata(glance_only)
    glance_only.create_all(engine)
    task_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(tasks.insert().values(
            id=task_id, type="api_image_import", status="success", owner="p1",
            expires_at=None, created_at=NOW, updated_at=NOW, deleted=False,
            image_id="i1", request_id="r1", user_id="u1"))
        conn.execute(task_info.insert().values(
            task_id=task_id, input=json.dumps({"image_id": "i1"}), result=None,
            message=""))
    assert migrate.upgrade(url) == migrate.head_version()
    task = SqlTaskRepository(engine).get(task_id)
    assert (task.status, task.owner, dict(task.input)) == ("success", "p1", {"image_id": "i1"})
    engine.dispose()


def test_glance_task_tables_on_mariadb_gain_microseconds() -> None:
    """Glance's MySQL ``tasks`` has DATETIME (seconds) columns; adopted, they hold microseconds."""
    admin = _admin_engine(MARIADB_ADMIN_URL, "MariaDB")
    name = _unique_name()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        glance_only = MetaData()
        for table in TASK_TABLES:
            copy = table.to_metadata(glance_only)
            for column in copy.c:
                if column.name.endswith("_at"):
                    column.type = mysql.DATETIME()
        glance_only.create_all(engine)
        migrate.upgrade(url)
        precise = NOW.replace(microsecond=654321)
        store = SqlTaskRepository(engine, Clock(precise))
        task = store.add(_task(created_at=precise, updated_at=precise))
        assert store.get(task.id).created_at == precise
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def _importer(store: TaskRepository) -> Importer:
    return Importer(repository=MemoryImageRepository(), stores=MemoryStoreRegistry(("a",)),
                    staging=MemoryStagingArea(), tasks=store, executor=InlineExecutor(),
                    settings=DomainSettings(), clock=Clock())


def test_an_import_lock_of_another_host_is_not_taken_as_stale(task_engine: Engine) -> None:
    """Host A records a pending import task and locks the image; host B (own engine, same
    database) sees that task and refuses a second import, where a per-host store would not."""
    url = task_engine.url.render_as_string(hide_password=False)
    other_host = make_engine(url)
    try:
        holder = SqlTaskRepository(task_engine, Clock()).add(_task())
        image = Image(id=str(holder.image_id), status="importing", created_at=NOW,
                      updated_at=NOW, extra_properties={LOCK_KEY: holder.id})
        with pytest.raises(Conflict, match="has active task"):
            _importer(SqlTaskRepository(other_host, Clock())).check_lock(image)
        _importer(MemoryTaskRepository(Clock())).check_lock(image)  # per host: "stale"
    finally:
        other_host.dispose()
