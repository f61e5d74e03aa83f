"""The legacy ``import`` task as an embedding program meets it: ``ImageService.create_task``
with an inline executor, fetching from a real 127.0.0.1 web server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, MemoryStoreRegistry
from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput
from glance_domain.importing import InlineExecutor
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.query import ImageQuery
from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea

from .httpserver import Site, serve

DATA = bytes(range(256)) * 300
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
