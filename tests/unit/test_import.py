"""Interoperable import in the domain: staging, glance-direct, web-download, copy-image, tasks,
failure reverts — over the in-memory ports, with tasks run inline."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, RequestContext
from glance_domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidStatusTransition,
    NotFound,
    SizeLimitExceeded,
    StoreUnavailable,
)
from glance_domain.importing import (
    ImportRequest,
    InlineExecutor,
    MemoryStagingArea,
    MemoryTaskRepository,
)
from glance_domain.notifications import RecordingNotifier
from glance_domain.ports import DataStream

from .helpers import FailingStores, RecordingPolicy, SteppingClock, formats

DATA = b"x" * 150_000


class DictFetcher:
    """A UriFetcher over a dict of URL -> bytes; URLs containing 'evil' fail filtering."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages

    def check(self, uri: str) -> None:
        if "evil" in uri:
            raise InvalidInput("refused")

    def open(self, uri: str) -> DataStream:
        if uri not in self.pages:
            raise NotFound(f"no data at {uri}")
        data = self.pages[uri]
        return DataStream(chunks=iter([data[:1000], data[1000:]]), length=len(data))


class ImportWorld:
    def __init__(self, **settings: object) -> None:
        self.clock = SteppingClock()
        self.repo = MemoryImageRepository(self.clock)
        self.stores = FailingStores(("default", "fast"), default="default")
        self.staging = MemoryStagingArea()
        self.tasks = MemoryTaskRepository(self.clock)
        self.fetcher = DictFetcher({"http://example.com/img": DATA})
        self.gateway = Gateway(
            repository=self.repo, stores=self.stores, policy=RecordingPolicy(),
            notifier=RecordingNotifier(), settings=DomainSettings(**settings),  # type: ignore[arg-type]
            clock=self.clock, tasks=self.tasks, staging=self.staging,
            executor=InlineExecutor(), fetcher=self.fetcher,
        )

    def svc(self, project: str = "p1", admin: bool = False):
        roles = ("admin", "member") if admin else ("member",)
        return self.gateway.service(
            RequestContext(project_id=project, user_id="u-" + project, roles=roles,
                           is_admin=admin))


@pytest.fixture
def w() -> ImportWorld:
    return ImportWorld()


def chunks(data: bytes = DATA) -> Iterator[bytes]:
    yield data[:70_000]
    yield data[70_000:]


def test_stage_then_glance_direct_activates_and_records_a_task(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    staged = svc.stage_data(image.id, chunks())
    assert staged.status == "uploading" and staged.size == len(DATA)
    assert w.staging.exists(image.id)

    task = svc.import_image(image.id, ImportRequest(
        method="glance-direct", body={"method": {"name": "glance-direct"}}))
    assert task is not None
    done = svc.get_image(image.id)
    assert done.status == "active"
    assert done.checksum == hashlib.md5(DATA).hexdigest()
    assert done.os_hash_value == hashlib.sha512(DATA).hexdigest()
    assert [loc.backend for loc in done.locations] == ["default"]
    assert "os_glance_import_task" not in done.extra_properties
    assert done.extra_properties["os_glance_importing_to_stores"] == ""
    assert done.extra_properties["os_glance_failed_import"] == ""
    assert not w.staging.exists(image.id)
    assert b"".join(svc.download_data(image.id).stream) == DATA  # type: ignore[union-attr]

    (recorded,) = svc.image_tasks(image.id)
    assert recorded.id == task.id and recorded.status == "success"
    assert recorded.result == {"image_id": image.id}
    assert recorded.input["backend"] == ["default"]
    assert recorded.expires_at is not None and recorded.owner == "p1"


def test_stage_refusals(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, chunks())
    with pytest.raises(InvalidStatusTransition):
        svc.stage_data(image.id, chunks())  # uploading -> uploading
    with pytest.raises(InvalidStatusTransition):
        svc.upload_data(image.id, chunks())  # uploading -> saving
    with pytest.raises((Forbidden, NotFound)):
        w.svc("other").stage_data(image.id, chunks())


def test_stage_over_size_cap_leaves_image_queued_and_nothing_staged() -> None:
    w = ImportWorld(image_size_cap=1000)
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    with pytest.raises(SizeLimitExceeded):
        svc.stage_data(image.id, chunks())
    assert svc.get_image(image.id).status == "queued"
    assert w.staging.count() == 0


def test_stage_disabled_when_glance_direct_not_enabled() -> None:
    w = ImportWorld(enabled_import_methods=("web-download",))
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    with pytest.raises(NotFound):
        svc.stage_data(image.id, chunks())
    with pytest.raises(InvalidInput, match="Unknown import method"):
        svc.import_image(image.id, ImportRequest(method="glance-direct"))


@pytest.mark.parametrize(
    ("status", "method", "message"),
    [
        ("queued", "glance-direct", "needs to be staged"),
        ("queued", "copy-image", "Only images with status active"),
        ("active", "web-download", "status active cannot be target"),
        ("uploading", "web-download", "needs to be in 'queued' state"),
    ],
)
def test_import_status_conflicts(w: ImportWorld, status: str, method: str, message: str) -> None:
    svc = w.svc(admin=True)
    image = svc.create_image(name="i", **formats())
    if status == "uploading":
        svc.stage_data(image.id, chunks())
    elif status == "active":
        svc.upload_data(image.id, chunks())
    with pytest.raises(Conflict, match=message):
        svc.import_image(image.id, ImportRequest(method=method, uri="http://example.com/img"))


def test_import_needs_formats(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i")
    svc.stage_data(image.id, chunks())
    with pytest.raises(Conflict, match="'container_format' needs to be set"):
        svc.import_image(image.id, ImportRequest(method="glance-direct"))


def test_web_download_to_two_stores(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.import_image(image.id, ImportRequest(
        method="web-download", uri="http://example.com/img", stores=("default", "fast")))
    done = svc.get_image(image.id)
    assert done.status == "active" and done.size == len(DATA)
    assert sorted(loc.backend or "" for loc in done.locations) == ["default", "fast"]
    assert w.staging.count() == 0


def test_web_download_filtered_uri_is_refused_before_any_task(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    with pytest.raises(InvalidInput, match="does not pass filtering: http://evil/x"):
        svc.import_image(image.id, ImportRequest(method="web-download", uri="http://evil/x"))
    assert svc.image_tasks(image.id) == []
    assert "os_glance_import_task" not in svc.get_image(image.id).extra_properties


def test_web_download_failure_reverts_to_queued_with_failed_store(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    task = svc.import_image(image.id, ImportRequest(
        method="web-download", uri="http://example.com/missing"))
    assert task is not None
    after = svc.get_image(image.id)
    assert after.status == "queued"
    assert after.extra_properties["os_glance_failed_import"] == "default"
    assert after.extra_properties["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in after.extra_properties
    (failed,) = svc.image_tasks(image.id)
    assert failed.status == "failure" and "missing" in failed.message
    assert w.staging.count() == 0 and w.stores.object_count() == 0
    # the image can be imported again afterwards
    svc.import_image(image.id, ImportRequest(method="web-download",
                                             uri="http://example.com/img"))
    again = svc.get_image(image.id)
    assert again.status == "active" and again.extra_properties["os_glance_failed_import"] == ""


def test_store_failure_on_second_store_removes_first_copy(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, chunks())
    w.stores.fail_after = 10
    svc.import_image(image.id, ImportRequest(method="glance-direct",
                                             stores=("default", "fast")))
    after = svc.get_image(image.id)
    assert after.status == "queued" and after.locations == ()
    assert w.stores.object_count() == 0 and w.staging.count() == 0
    assert after.extra_properties["os_glance_failed_import"] == "default,fast"


def test_all_stores_must_succeed_false_keeps_successful_copies(w: ImportWorld) -> None:
    class OneBadStore(FailingStores):
        def write(self, image_id, chunks, *, backend=None, size=None, max_size=None):  # type: ignore[no-untyped-def]
            if backend == "fast":
                raise StoreUnavailable("fast is down")
            return super().write(image_id, chunks, backend=backend, size=size,
                                 max_size=max_size)

    w.stores.__class__ = OneBadStore
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, chunks())
    svc.import_image(image.id, ImportRequest(method="glance-direct", all_stores=True,
                                             all_stores_must_succeed=False))
    after = svc.get_image(image.id)
    assert after.status == "active"
    assert [loc.backend for loc in after.locations] == ["default"]
    assert after.extra_properties["os_glance_failed_import"] == "fast"


def test_copy_image_is_admin_only_and_adds_a_location(w: ImportWorld) -> None:
    owner = w.svc()
    image = owner.create_image(name="i", **formats())
    owner.upload_data(image.id, chunks())
    with pytest.raises(Forbidden, match="copy_image"):
        owner.import_image(image.id, ImportRequest(method="copy-image", stores=("fast",)))
    admin = w.svc("admin", admin=True)
    with pytest.raises(InvalidInput, match="already present at store 'default'"):
        admin.import_image(image.id, ImportRequest(method="copy-image"))
    with pytest.raises(Conflict, match="Store for identifier nope not found"):
        admin.import_image(image.id, ImportRequest(method="copy-image", stores=("nope",)))
    task = admin.import_image(image.id, ImportRequest(method="copy-image", all_stores=True))
    assert task is not None and task.owner == "admin"
    after = owner.get_image(image.id)
    assert after.status == "active"
    assert sorted(loc.backend or "" for loc in after.locations) == ["default", "fast"]
    # everything already copied: nothing to do
    assert admin.import_image(image.id, ImportRequest(method="copy-image",
                                                      all_stores=True)) is None


def test_non_owner_cannot_import_and_tasks_are_project_scoped(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    with pytest.raises((Forbidden, NotFound)):
        w.svc("other").import_image(image.id, ImportRequest(
            method="web-download", uri="http://example.com/img"))
    task = svc.import_image(image.id, ImportRequest(method="web-download",
                                                    uri="http://example.com/img"))
    assert task is not None
    assert [t.id for t in svc.list_tasks()] == [task.id]
    assert w.svc("other").list_tasks() == []
    with pytest.raises(NotFound):
        w.svc("other").get_task(task.id)
    assert w.svc("admin", admin=True).get_task(task.id).id == task.id


def test_running_import_holds_the_lock() -> None:
    class Deferred:
        def __init__(self) -> None:
            self.work: list = []  # type: ignore[type-arg]

        def submit(self, work) -> None:  # type: ignore[no-untyped-def]
            self.work.append(work)

    w = ImportWorld()
    deferred = Deferred()
    w.gateway.importer.executor = deferred
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.import_image(image.id, ImportRequest(method="web-download",
                                             uri="http://example.com/img"))
    locked = svc.get_image(image.id)
    assert locked.status == "queued" and "os_glance_import_task" in locked.extra_properties
    with pytest.raises(Conflict):
        svc.import_image(image.id, ImportRequest(method="web-download",
                                                 uri="http://example.com/img"))
    deferred.work.pop()()
    assert svc.get_image(image.id).status == "active"


def test_deleting_a_staged_image_empties_staging(w: ImportWorld) -> None:
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    svc.stage_data(image.id, chunks())
    svc.delete_image(image.id)
    assert w.staging.count() == 0


def test_imports_notify_prepare_upload_activate_per_store_as_the_caller(w: ImportWorld) -> None:
    notifier = w.gateway.notifier
    assert isinstance(notifier, RecordingNotifier)
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    notifier.clear()
    svc.import_image(image.id, ImportRequest(
        method="web-download", uri="http://example.com/img", stores=("default", "fast")))
    events = [e for e in notifier.events if e.event_type != "image.update"]
    assert [(e.event_type, e.payload.get("backend")) for e in events] == [
        ("image.prepare", "default"), ("image.upload", None),
        ("image.prepare", "fast"), ("image.upload", None), ("image.activate", None)]
    assert events[0].payload["os_glance_importing_to_stores"] == ["default", "fast"]
    assert events[3].payload["os_glance_importing_to_stores"] == []
    assert events[-1].payload["status"] == "active" and events[-1].payload["id"] == image.id


def test_a_failed_store_write_notifies_an_upload_error(w: ImportWorld) -> None:
    notifier = w.gateway.notifier
    assert isinstance(notifier, RecordingNotifier)
    svc = w.svc()
    image = svc.create_image(name="i", **formats())
    notifier.clear()
    w.stores.fail_after = 10
    svc.import_image(image.id, ImportRequest(method="web-download",
                                             uri="http://example.com/img"))
    errors = [e for e in notifier.events if e.level == "ERROR"]
    assert [e.event_type for e in errors] == ["image.upload"]
    assert errors[0].payload["image_id"] == image.id
    assert "image.activate" not in notifier.event_types()
