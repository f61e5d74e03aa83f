"""In-memory ``TaskRepository`` and ``StagingArea`` (embedding, tests, single-process use)."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable

import attrs

from glance_domain.clock import SystemClock
from glance_domain.errors import Duplicate, NotFound, SizeLimitExceeded
from glance_domain.model.task import Task
from glance_domain.ports import Clock, DataStream


def live(task: Task, now: Callable[[], object]) -> bool:
    """Whether ``task`` has not expired yet."""
    return task.expires_at is None or task.expires_at >= now()  # type: ignore[operator]


class MemoryTaskRepository:
    """Tasks in a dict; ``save`` stamps ``updated_at`` from the clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def add(self, task: Task) -> Task:
        with self._lock:
            if task.id in self._tasks:
                raise Duplicate(f"Task with id {task.id} already exists.")
            self._tasks[task.id] = task
            return task

    def get(self, task_id: str) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or not live(task, self._clock.now):
            raise NotFound(f"Task with the given id {task_id} was not found")
        return task

    def save(self, task: Task) -> Task:
        with self._lock:
            if task.id not in self._tasks:
                raise NotFound(f"Task with the given id {task.id} was not found")
            task = attrs.evolve(task, updated_at=self._clock.now())
            self._tasks[task.id] = task
            return task

    def list(
        self, *, owner: str | None = None, image_id: str | None = None
    ) -> builtins.list[Task]:
        with self._lock:
            tasks = list(self._tasks.values())
        tasks = [
            t for t in tasks
            if live(t, self._clock.now)
            and (owner is None or t.owner == owner)
            and (image_id is None or t.image_id == image_id)
        ]
        return sorted(tasks, key=lambda t: (t.created_at, t.id), reverse=True)


class MemoryStagingArea:
    """Staged image data held in memory, committed only once fully received."""

    CHUNK_SIZE = 65536

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def write(
        self, image_id: str, chunks: Iterable[bytes], *, max_size: int | None = None
    ) -> int:
        parts: list[bytes] = []
        total = 0
        for chunk in chunks:
            total += len(chunk)
            if max_size is not None and total > max_size:
                raise SizeLimitExceeded(f"Image exceeds the maximum size of {max_size} bytes.")
            parts.append(bytes(chunk))
        with self._lock:
            self._data[image_id] = b"".join(parts)
        return total

    def read(self, image_id: str) -> DataStream:
        with self._lock:
            data = self._data.get(image_id)
        if data is None:
            raise NotFound(f"No data staged for image {image_id}.")
        step = self.CHUNK_SIZE
        chunks = (data[i : i + step] for i in range(0, len(data), step))
        return DataStream(chunks=iter(chunks), length=len(data))

    def delete(self, image_id: str) -> None:
        with self._lock:
            if self._data.pop(image_id, None) is None:
                raise NotFound(f"No data staged for image {image_id}.")

    def exists(self, image_id: str) -> bool:
        with self._lock:
            return image_id in self._data

    def remove_partial(self, image_id: str) -> int:
        """Nothing to remove: an unfinished write is only in its writer's memory."""
        return 0

    def count(self) -> int:
        """How many images have staged data (leak checks in tests)."""
        with self._lock:
            return len(self._data)
