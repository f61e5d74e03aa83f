"""Image data is never lost to a failed or racing database write (review P1.3).

The database is committed first and the data deleted afterwards, best-effort: an orphaned
blob can be swept later, a location pointing at deleted data is corruption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, RequestContext
from glance_domain.errors import Conflict, ServiceUnavailable, StoreUnavailable
from glance_domain.importing import (
    ImportRequest,
    InlineExecutor,
    MemoryStagingArea,
    MemoryTaskRepository,
)
from glance_domain.model.image import Image
from glance_domain.notifications import RecordingNotifier
from glance_domain.ports import StoredData

from .helpers import FailingStores, RecordingPolicy, SteppingClock, formats

DATA = b"d" * 10_000


class FlakyRepository(MemoryImageRepository):
    """A memory repository whose writes fail (database down) while ``down`` is set."""

    down = False

    def save(self, before: Image, after: Image) -> Image:
        if self.down:
            raise ServiceUnavailable("database is down")
        return super().save(before, after)

    def remove(self, image: Image) -> Image:
        if self.down:
            raise ServiceUnavailable("database is down")
        return super().remove(image)


class HookedStores(FailingStores):
    """Memory stores that call ``before_write(backend)`` first (to inject failures)."""

    before_write: Callable[[str | None], None] | None = None

    def write(self, image_id: str, chunks: Iterable[bytes], *, backend: str | None = None,
              size: int | None = None, max_size: int | None = None) -> StoredData:
        if self.before_write is not None:
            self.before_write(backend)
        return super().write(image_id, chunks, backend=backend, size=size, max_size=max_size)


class World:
    def __init__(self) -> None:
        self.clock = SteppingClock()
        self.repo = FlakyRepository(self.clock)
        self.stores = HookedStores(("default", "fast"), default="default")
        self.gateway = Gateway(
            repository=self.repo, stores=self.stores, policy=RecordingPolicy(),
            notifier=RecordingNotifier(), settings=DomainSettings(), clock=self.clock,
            tasks=MemoryTaskRepository(self.clock), staging=MemoryStagingArea(),
            executor=InlineExecutor(),
        )
        self.svc = self.gateway.service(
            RequestContext(project_id="p1", user_id="u1", roles=("admin", "member"),
                           is_admin=True))

    def active_image(self) -> Image:
        image = self.svc.create_image(name="i", **formats())
        return self.svc.upload_data(image.id, [DATA])

    def readable(self, image: Image) -> bool:
        """Every location of the stored record still has its data."""
        stored = self.repo.get(image.id)
        assert stored.locations
        for location in stored.locations:
            stream = self.stores.read(location.url)
            try:
                if b"".join(stream) != DATA:
                    return False
            finally:
                stream.close()
        return True


@pytest.fixture
def w() -> World:
    return World()


def test_a_failed_delete_keeps_the_data(w: World) -> None:
    image = w.active_image()
    w.repo.down = True
    with pytest.raises(ServiceUnavailable):
        w.svc.delete_image(image.id)
    w.repo.down = False
    assert w.repo.get(image.id).status == "active"
    assert w.readable(image)


def test_a_failed_delete_from_store_keeps_the_data(w: World) -> None:
    image = w.active_image()
    w.svc.import_image(image.id, ImportRequest(method="copy-image", stores=("fast",)))
    assert {loc.backend for loc in w.repo.get(image.id).locations} == {"default", "fast"}
    w.repo.down = True
    with pytest.raises(ServiceUnavailable):
        w.svc.delete_from_store(image.id, "fast")
    w.repo.down = False
    assert w.readable(image)


def test_delete_removes_the_data_after_the_commit(w: World) -> None:
    image = w.active_image()
    w.svc.delete_image(image.id)
    assert w.stores.object_count() == 0


def test_a_failed_import_revert_never_leaves_a_location_without_data(w: World) -> None:
    """The second store fails and the database goes down before the revert can save: the
    image still lists the first copy, so that copy's data must still be there."""
    repo = w.repo

    def fail_fast(backend: str | None) -> None:
        if backend == "fast":
            repo.down = True
            raise StoreUnavailable("fast store on fire")

    w.stores.before_write = fail_fast
    image = w.svc.create_image(name="i", **formats())
    w.svc.stage_data(image.id, [DATA])
    w.svc.import_image(image.id, ImportRequest(
        method="glance-direct", stores=("default", "fast"), all_stores_must_succeed=True))
    repo.down = False
    stored = repo.get(image.id)
    assert stored.locations, "the revert could not save, so the first copy stays listed"
    assert w.readable(stored)


class HeldExecutor:
    """Keeps submitted work without running it (the import stays in progress)."""

    def __init__(self) -> None:
        self.work: list[Callable[[], None]] = []

    def submit(self, work: Callable[[], None]) -> None:
        self.work.append(work)


def test_two_racing_copy_image_imports_cannot_both_take_the_lock() -> None:
    """Both requests fetched the image before either took the import lock (review P1.5):
    the status does not change for copy-image, so only an atomic lock tells them apart."""
    w = World()
    image = w.active_image()
    held = HeldExecutor()
    w.gateway.importer.executor = held
    importer = w.gateway.importer
    request = ImportRequest(method="copy-image", stores=("fast",))
    snapshot = w.repo.get(image.id)
    importer.start(w.svc.context, snapshot, request)
    with pytest.raises(Conflict):
        importer.start(w.svc.context, snapshot, request)
    assert len(held.work) == 1
    held.work[0]()
    stored = w.repo.get(image.id)
    assert "os_glance_import_task" not in stored.extra_properties
    assert {loc.backend for loc in stored.locations} == {"default", "fast"}
