"""TaskRepository contract: the in-memory store and ``SqlTaskRepository`` (SQLite, PostgreSQL,
MariaDB) keep, update, list and expire import tasks identically; two handles on one SQL
database (two API hosts) see the same tasks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import attrs
import pytest
from sqlalchemy import Engine, delete

from glance_domain.errors import Duplicate, NotFound
from glance_domain.importing import MemoryTaskRepository
from glance_domain.model.task import Task, task_transition
from glance_domain.ports import TaskRepository
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.task_tables import TASK_TABLES
from glance_domain_adapters.db.tasks import SqlTaskRepository
from tests.conftest import cached_engine

T0 = dt.datetime(2024, 1, 1, 12, 0, 0, 123456)


@attrs.define
class FakeClock:
    current: dt.datetime = T0

    def now(self) -> dt.datetime:
        return self.current


#: opens another handle on the same task storage (another API host / worker)
Opener = Callable[[], TaskRepository]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite", "postgresql", "mariadb"])
def open_store(request: pytest.FixtureRequest, clock: FakeClock) -> Opener:
    if request.param == "memory":
        memory = MemoryTaskRepository(clock)
        return lambda: memory
    url = str(request.getfixturevalue(f"{request.param}_url"))
    with cached_engine(url).begin() as conn:
        for table in TASK_TABLES:
            conn.execute(delete(table))
    engines: list[Engine] = []

    def opener() -> TaskRepository:
        engine = cached_engine(url) if not engines else make_engine(url)
        engines.append(engine)
        return SqlTaskRepository(engine, clock)

    def dispose_others() -> None:
        for engine in engines[1:]:
            engine.dispose()

    request.addfinalizer(dispose_others)
    return opener


@pytest.fixture
def store(open_store: Opener) -> TaskRepository:
    return open_store()


def _task(*, created: dt.datetime = T0, **changes: object) -> Task:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()), "owner": "p1", "image_id": str(uuid.uuid4()),
        "user_id": "u1", "request_id": "req-" + "a" * 36,
        "input": {"image_id": "x", "import_req": {"method": {"name": "web-download",
                                                             "uri": "http://h/ü"}},
                  "backend": ["fast", "slow"]},
        "created_at": created, "updated_at": created,
    }
    values.update(changes)
    return Task(**values)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field(store: TaskRepository) -> None:
    task = _task()
    assert store.add(task) == task
    got = store.get(task.id)
    assert got == task
    assert got.created_at == T0 and got.result is None and got.expires_at is None
    assert isinstance(got, Task)


def test_a_task_without_project_keeps_owner_none(store: TaskRepository) -> None:
    task = store.add(_task(owner=None, image_id=None, user_id=None, request_id=None))
    assert store.get(task.id) == task


def test_unknown_and_duplicate_ids(store: TaskRepository) -> None:
    task = store.add(_task())
    with pytest.raises(Duplicate):
        store.add(_task(id=task.id))
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(NotFound, match="was not found"):
            store.get(missing)
    with pytest.raises(NotFound):
        store.save(_task())


def test_save_moves_status_and_stamps_updated_at(
    store: TaskRepository, clock: FakeClock
) -> None:
    task = store.add(_task())
    clock.current = T0 + dt.timedelta(seconds=5)
    processing = store.save(task_transition(task, "processing"))
    assert processing.updated_at == clock.current and processing.status == "processing"
    clock.current = T0 + dt.timedelta(minutes=1)
    expires = clock.current + dt.timedelta(hours=48)
    done = store.save(task_transition(processing, "success", message="Copied 1 MiB",
                                      result={"image_id": "x"}, expires_at=expires))
    got = store.get(task.id)
    assert got == done
    assert (got.status, got.message, dict(got.result or {}), got.expires_at) == (
        "success", "Copied 1 MiB", {"image_id": "x"}, expires)
    assert got.created_at == T0 and got.input == task.input


def test_list_newest_first_with_owner_and_image_filters(store: TaskRepository) -> None:
    image = str(uuid.uuid4())
    a = store.add(_task(owner="p1", image_id=image))
    b = store.add(_task(owner="p2", image_id=image, created=T0 + dt.timedelta(microseconds=1)))
    c = store.add(_task(owner="p1", created=T0 + dt.timedelta(seconds=1)))
    assert [t.id for t in store.list()] == [c.id, b.id, a.id]
    assert [t.id for t in store.list(owner="p1")] == [c.id, a.id]
    assert [t.id for t in store.list(image_id=image)] == [b.id, a.id]
    assert [t.id for t in store.list(owner="p2", image_id=image)] == [b.id]
    assert store.list(owner="nobody") == []
    assert store.list()[0] == c  # listed tasks are complete (input, result, message)


def test_expired_tasks_are_neither_found_nor_listed(
    store: TaskRepository, clock: FakeClock
) -> None:
    running = store.add(_task())
    finished = store.add(_task())
    expires = T0 + dt.timedelta(hours=48)
    store.save(task_transition(task_transition(finished, "processing"), "failure",
                               message="boom", expires_at=expires))
    clock.current = expires  # still visible at its expiry instant
    assert {t.id for t in store.list()} == {running.id, finished.id}
    clock.current = expires + dt.timedelta(seconds=1)
    with pytest.raises(NotFound):
        store.get(finished.id)
    assert [t.id for t in store.list()] == [running.id]
    assert store.list(image_id=finished.image_id) == []
    assert store.get(running.id).status == "pending"


def test_another_host_sees_the_same_tasks(open_store: Opener) -> None:
    """What makes several API hosts on one database safe: a task recorded by one is known to
    the others (GET /v2/tasks/{id} and the import lock's holder check)."""
    host_a, host_b = open_store(), open_store()
    task = host_a.add(_task())
    assert host_b.get(task.id) == task
    saved = host_b.save(task_transition(task, "processing"))
    assert host_a.get(task.id) == saved
    assert [t.id for t in host_a.list(image_id=task.image_id)] == [task.id]
