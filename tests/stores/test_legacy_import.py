"""The legacy ``import`` task as an embedding program meets it: ``ImageService.create_task``
with an inline executor, fetching from a real 127.0.0.1 web server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, MemoryStoreRegistry
from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput, ServiceUnavailable, StoreUnavailable
from glance_domain.importing import InlineExecutor
from glance_domain.notifications import NullNotifier, RecordingNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.query import ImageQuery
from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea

from .httpserver import Site, serve

DATA = bytes(range(256)) * 300
FORMATS = {"disk_format": "raw", "container_format": "bare"}
ADMIN = RequestContext(project_id="ops", user_id="root", roles=("admin", "member", "reader"))


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        running.files["/disk.raw"] = DATA
        yield running


def _gateway(site: Site, tmp_path: Path, **settings: int) -> Gateway:
    port = int(site.base.rsplit(":", 1)[1])
    return Gateway(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(),
        policy=DefaultPolicy(), notifier=NullNotifier(), settings=DomainSettings(**settings),
        staging=FileStagingArea(str(tmp_path)), executor=InlineExecutor(),
        fetcher=HttpFetcher(uri_filter=ImportFilter(allowed_ports=(port,)),
                            allowed_networks=["127.0.0.1/32"]),
    )


def test_create_task_imports_the_url_into_a_new_image(site: Site, tmp_path: Path) -> None:
    svc = _gateway(site, tmp_path).service(ADMIN)
    task = svc.create_task("import", {
        "import_from": f"{site.base}/disk.raw", "import_from_format": "raw",
        "image_properties": {"name": "legacy", "disk_format": "raw",
                             "container_format": "bare", "hw_arch": "x86_64"}})
    assert task.status == "pending" and task.owner == "ops"
    done = svc.get_task(task.id)
    assert done.status == "success", done.message
    assert done.result is not None
    image = svc.get_image(done.result["image_id"])
    assert image.status == "active" and image.size == len(DATA)
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    assert image.extra_properties["hw_arch"] == "x86_64"
    download = svc.download_data(image.id)
    assert download is not None and b"".join(download.stream) == DATA


def test_the_size_cap_fails_the_task_and_removes_its_image(site: Site, tmp_path: Path) -> None:
    svc = _gateway(site, tmp_path, image_size_cap=len(DATA) - 1).service(ADMIN)
    task = svc.create_task("import", {"import_from": f"{site.base}/disk.raw",
                                      "image_properties": {"name": "big"}})
    done = svc.get_task(task.id)
    assert done.status == "failure" and done.message
    assert svc.list_images(ImageQuery()) == []


@pytest.mark.parametrize(("task_input", "text"), [
    ({}, "Invalid location"),
    ({"import_from": "file:///etc/passwd"}, "File based imports are not allowed"),
    ({"import_from": "gopher://127.0.0.1/x"}, "The given uri is not valid"),
    ({"import_from": "http://127.0.0.1:1/x"}, "does not pass filtering"),
])
def test_refused_sources_record_no_task(
    site: Site, tmp_path: Path, task_input: dict[str, str], text: str
) -> None:
    svc = _gateway(site, tmp_path).service(ADMIN)
    with pytest.raises(InvalidInput, match=text):
        svc.create_task("import", task_input)
    assert svc.list_tasks() == []


def test_unknown_task_types_are_refused(site: Site, tmp_path: Path) -> None:
    svc = _gateway(site, tmp_path).service(ADMIN)
    with pytest.raises(InvalidInput, match="not supported"):
        svc.create_task("export", {})


def _recording(site: Site, tmp_path: Path, **settings: int) -> tuple[Gateway, RecordingNotifier]:
    gateway = _gateway(site, tmp_path, **settings)
    notifier = RecordingNotifier()
    gateway.notifier = notifier
    return gateway, notifier


def test_notifications_of_a_legacy_import(site: Site, tmp_path: Path) -> None:
    gateway, notifier = _recording(site, tmp_path)
    svc = gateway.service(ADMIN)
    svc.create_task("import", {"import_from": f"{site.base}/disk.raw",
                               "image_properties": {"name": "n", **FORMATS}})
    assert [e for e in notifier.event_types() if e != "image.update"] == [
        "image.create", "image.prepare", "image.upload", "image.activate"]


def test_a_failed_import_deletes_its_image_through_the_layers(
    site: Site, tmp_path: Path
) -> None:
    gateway, notifier = _recording(site, tmp_path, image_size_cap=len(DATA) - 1)
    svc = gateway.service(ADMIN)
    task = svc.create_task("import", {"import_from": f"{site.base}/disk.raw",
                                      "image_properties": {"name": "big", "protected": True}})
    assert svc.get_task(task.id).status == "failure"
    assert svc.list_images(ImageQuery()) == []  # protected by its properties, deleted anyway
    assert "image.delete" in notifier.event_types()


class _OwnerUploadsFirst:
    """A fetcher whose ``open`` lets the image's owner upload to it first, then fails (the
    race of a slow source): the image is not the task's any more and must survive."""

    def __init__(self, inner: HttpFetcher, svc: object) -> None:
        self.inner = inner
        self.svc = svc

    def check(self, uri: str) -> None:
        self.inner.check(uri)

    def open(self, uri: str) -> object:
        svc = self.svc
        (image,) = svc.list_images(ImageQuery())  # type: ignore[attr-defined]
        svc.upload_data(image.id, [b"owner's data"])  # type: ignore[attr-defined]
        raise StoreUnavailable("the source went away")


def test_an_image_changed_meanwhile_is_not_deleted(site: Site, tmp_path: Path) -> None:
    gateway = _gateway(site, tmp_path)
    svc = gateway.service(ADMIN)
    assert gateway.importer.fetcher is not None
    gateway.importer.fetcher = _OwnerUploadsFirst(gateway.importer.fetcher, svc)  # type: ignore[assignment]
    task = svc.create_task("import", {"import_from": f"{site.base}/disk.raw",
                                      "image_properties": {"name": "raced", **FORMATS}})
    assert svc.get_task(task.id).status == "failure"
    (image,) = svc.list_images(ImageQuery())
    assert image.status == "active"
    download = svc.download_data(image.id)
    assert download is not None and b"".join(download.stream) == b"owner's data"


def test_image_properties_become_extra_properties_as_text(site: Site, tmp_path: Path) -> None:
    svc = _gateway(site, tmp_path).service(ADMIN)
    task = svc.create_task("import", {
        "import_from": f"{site.base}/disk.raw",
        "image_properties": {"name": "odd", **FORMATS, "context": "c",
                             "extra_properties": "e", "hw_cpu_cores": 2}})
    done = svc.get_task(task.id)
    assert done.status == "success", done.message
    assert done.result is not None
    image = svc.get_image(done.result["image_id"])
    assert {k: image.extra_properties[k] for k in ("context", "extra_properties",
                                                   "hw_cpu_cores")} == {
        "context": "c", "extra_properties": "e", "hw_cpu_cores": "2"}
    refused = svc.create_task("import", {"import_from": f"{site.base}/disk.raw",
                                         "image_properties": {"status": "active"}})
    assert "read-only" in svc.get_task(refused.id).message


class _ClosedPool:
    def submit(self, work: object) -> None:
        raise RuntimeError("cannot schedule new futures after shutdown")


def test_a_task_that_cannot_be_scheduled_is_a_503_and_a_failed_task(
    site: Site, tmp_path: Path
) -> None:
    gateway = _gateway(site, tmp_path)
    gateway.importer.executor = _ClosedPool()
    svc = gateway.service(ADMIN)
    with pytest.raises(ServiceUnavailable, match="could not be scheduled"):
        svc.create_task("import", {"import_from": f"{site.base}/disk.raw"})
    (task,) = svc.list_tasks()
    assert task.status == "failure" and "could not be scheduled" in task.message
