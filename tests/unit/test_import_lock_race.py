"""Two imports of one image started at the same time: exactly one runs.

The import lock names the task holding it, and a lock whose task cannot be found is taken
for stale. The task used to be recorded only after the lock was taken, so a second request
arriving in between found the lock, no task behind it, and took the lock over: both imports
ran (the first then aborted and, reverting, emptied the staging area the second needed).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, RequestContext
from glance_domain.errors import Conflict, ServiceUnavailable
from glance_domain.importing import ImportRequest, MemoryStagingArea, MemoryTaskRepository
from glance_domain.model.task import Task
from glance_domain.notifications import RecordingNotifier

from .helpers import FailingStores, RecordingPolicy, SteppingClock, formats


class PausingTasks(MemoryTaskRepository):
    """Its first ``add`` waits until released (a slow task-table insert)."""

    def __init__(self, clock: SteppingClock) -> None:
        super().__init__(clock)
        self.entered = threading.Event()
        self.release = threading.Event()
        self._first = True

    def add(self, task: Task) -> Task:
        if self._first:
            self._first = False
            self.entered.set()
            assert self.release.wait(30)
        return super().add(task)


class CollectingExecutor:
    def __init__(self) -> None:
        self.submitted: list[Callable[[], None]] = []

    def submit(self, work: Callable[[], None]) -> None:
        self.submitted.append(work)


def test_two_imports_started_together_one_conflicts() -> None:
    clock = SteppingClock()
    tasks = PausingTasks(clock)
    executor = CollectingExecutor()
    gateway = Gateway(
        repository=MemoryImageRepository(clock), stores=FailingStores(("default",)),
        policy=RecordingPolicy(), notifier=RecordingNotifier(),
        settings=DomainSettings(), clock=clock, tasks=tasks, staging=MemoryStagingArea(),
        executor=executor, fetcher=None,
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u", roles=("member",)))
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, iter([b"staged"]), size=None)
    request = ImportRequest(method="glance-direct")
    outcomes: list[object] = []

    def first() -> None:
        try:
            outcomes.append(svc.import_image(image.id, request))
        except Conflict as exc:
            outcomes.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert tasks.entered.wait(30)
    try:
        outcomes.append(svc.import_image(image.id, request))
    except Conflict as exc:
        outcomes.append(exc)
    finally:
        tasks.release.set()
        thread.join(30)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Task"], outcomes
    assert len(executor.submitted) == 1
    winner = next(o for o in outcomes if isinstance(o, Task))
    assert svc.get_image(image.id).extra_properties["os_glance_import_task"] == winner.id


class ClosedExecutor:
    def submit(self, work: Callable[[], None]) -> None:
        raise RuntimeError("cannot schedule new futures after shutdown")


def test_an_import_that_cannot_be_scheduled_leaves_the_image_unlocked() -> None:
    """Without this the lock stayed on, held by a pending task: every import was refused
    with 409 for two hours (the lock expiry of a pending task)."""
    clock = SteppingClock()
    tasks = MemoryTaskRepository(clock)
    gateway = Gateway(
        repository=MemoryImageRepository(clock), stores=FailingStores(("default",)),
        policy=RecordingPolicy(), notifier=RecordingNotifier(),
        settings=DomainSettings(), clock=clock, tasks=tasks, staging=MemoryStagingArea(),
        executor=ClosedExecutor(), fetcher=None,
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u", roles=("member",)))
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, iter([b"staged"]), size=None)
    with pytest.raises(ServiceUnavailable, match="could not be scheduled"):  # a 503, not a 500
        svc.import_image(image.id, ImportRequest(method="glance-direct"))
    assert "os_glance_import_task" not in svc.get_image(image.id).extra_properties
    assert [t.status for t in tasks.list()] == ["failure"]


class SlowStaging(MemoryStagingArea):
    """A staging area whose writes take 20 minutes per chunk (on the stepping clock); at
    chunk ``probe_at`` it runs ``probe`` (another request arriving while the copy goes on)."""

    def __init__(self, clock: SteppingClock, probe_at: int) -> None:
        super().__init__()
        self.clock = clock
        self.probe_at = probe_at
        self.probe: Callable[[], None] = lambda: None

    def write(self, image_id: str, chunks: Iterable[bytes], *,
              max_size: int | None = None) -> int:
        def slow() -> Iterator[bytes]:
            for index, chunk in enumerate(chunks):
                if index == self.probe_at:
                    self.probe()
                yield chunk
                self.clock._now += dt.timedelta(minutes=20)

        return super().write(image_id, slow(), max_size=max_size)


def test_a_long_copy_keeps_its_lock() -> None:
    """A copy running longer than the lock expiry refreshes its task (Glance records
    'Copied N MiB' as it goes), so its lock is not taken for stale by another import."""
    clock = SteppingClock()
    tasks = MemoryTaskRepository(clock)
    executor = CollectingExecutor()
    staging = SlowStaging(clock, probe_at=8)  # the probe comes after 2 h 40 min
    stores = FailingStores(("default", "fast"), default="default")
    gateway = Gateway(
        repository=MemoryImageRepository(clock), stores=stores,
        policy=RecordingPolicy(), notifier=RecordingNotifier(),
        settings=DomainSettings(), clock=clock,
        tasks=tasks, staging=staging, executor=executor, fetcher=None,
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u",
                                         roles=("admin", "member"), is_admin=True))
    image = svc.create_image(name="i", **formats())
    data = b"z" * (10 * stores.CHUNK_SIZE)
    svc.upload_data(image.id, iter([data]), size=None)
    request = ImportRequest(method="copy-image", stores=("fast",))
    first = svc.import_image(image.id, request)
    assert first is not None
    second: list[object] = []

    def probe() -> None:
        try:
            second.append(svc.import_image(image.id, request))
        except Conflict as exc:
            second.append(exc)

    staging.probe = probe
    executor.submitted[0]()
    assert [type(o).__name__ for o in second] == ["Conflict"], second
    assert len(executor.submitted) == 1
    assert tasks.get(first.id).status == "success", tasks.get(first.id).message
    assert {loc.metadata["store"] for loc in svc.get_image(image.id).locations} == {
        "default", "fast"}


def test_a_task_that_lost_its_lock_leaves_the_new_holders_image_alone() -> None:
    """When another task holds the lock (taken over after expiry, e.g. by another host), the
    task that lost it stops and reverts only its own unreferenced data: the image's store
    lists and staging now belong to the new holder."""
    clock = SteppingClock()
    tasks = MemoryTaskRepository(clock)
    executor = CollectingExecutor()
    staging = SlowStaging(clock, probe_at=3)
    stores = FailingStores(("default", "fast"), default="default")
    repo = MemoryImageRepository(clock)
    gateway = Gateway(
        repository=repo, stores=stores, policy=RecordingPolicy(),
        notifier=RecordingNotifier(), settings=DomainSettings(), clock=clock,
        tasks=tasks, staging=staging, executor=executor, fetcher=None,
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u",
                                         roles=("admin", "member"), is_admin=True))
    image = svc.create_image(name="i", **formats())
    svc.upload_data(image.id, iter([b"z" * (10 * stores.CHUNK_SIZE)]), size=None)
    first = svc.import_image(image.id, ImportRequest(method="copy-image", stores=("fast",)))
    assert first is not None

    def take_over() -> None:  # what a second task taking the stale lock does
        repo.set_property_atomic(image.id, "os_glance_import_task", "other-task",
                                 expected=first.id)

    staging.probe = take_over
    executor.submitted[0]()
    assert tasks.get(first.id).status == "failure"
    props = svc.get_image(image.id).extra_properties
    assert props["os_glance_import_task"] == "other-task"
    assert props.get("os_glance_importing_to_stores") == "fast"  # the new holder's progress
    assert not props.get("os_glance_failed_import")


class LockWitnessTasks(MemoryTaskRepository):
    """Records, at each final task save, whether the image still carried the import lock."""

    def __init__(self, clock: SteppingClock, images: MemoryImageRepository) -> None:
        super().__init__(clock)
        self.images = images
        self.lock_at_end: list[tuple[str, bool]] = []

    def save(self, task: Task) -> Task:
        if task.status in ("success", "failure") and task.image_id:
            props = self.images.get(task.image_id).extra_properties
            self.lock_at_end.append((task.status, "os_glance_import_task" in props))
        return super().save(task)


@pytest.mark.parametrize("staged", [True, False])
def test_the_lock_is_dropped_only_once_the_task_has_ended(staged: bool) -> None:
    """Clients (and tests) wait for an import by polling the image until the lock is gone:
    by then the task must already say success or failure (Glance records success before
    dropping the lock). The lock used to go first, so the task could still read processing."""
    clock = SteppingClock()
    images = MemoryImageRepository(clock)
    tasks = LockWitnessTasks(clock, images)
    staging = MemoryStagingArea()
    executor = CollectingExecutor()
    gateway = Gateway(
        repository=images, stores=FailingStores(("default",)), policy=RecordingPolicy(),
        notifier=RecordingNotifier(), settings=DomainSettings(), clock=clock, tasks=tasks,
        staging=staging, executor=executor, fetcher=None,
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u", roles=("member",)))
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, iter([b"staged"]), size=None)
    if not staged:  # the import then fails: nothing to import
        staging.delete(image.id)
    assert svc.import_image(image.id, ImportRequest(method="glance-direct")) is not None
    executor.submitted[0]()
    assert tasks.lock_at_end == [("success" if staged else "failure", True)]
    assert "os_glance_import_task" not in svc.get_image(image.id).extra_properties
