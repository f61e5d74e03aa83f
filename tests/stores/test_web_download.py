"""web-download against servers that neither answer HEAD nor send a Content-Length
(review P1.8): the data is fetched with one GET and the size cap is enforced while reading."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, MemoryStoreRegistry
from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput, SizeLimitExceeded, StoreUnavailable
from glance_domain.importing import ImportRequest, InlineExecutor
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea

from .httpserver import Site, serve

DATA = bytes(range(256)) * 800  # 200 KiB


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        running.head_allowed = False
        running.chunked = True
        running.files["/image.raw"] = DATA
        yield running


def _fetcher(site: Site) -> HttpFetcher:
    port = int(site.base.rsplit(":", 1)[1])
    return HttpFetcher(uri_filter=ImportFilter(allowed_ports=(port,)),
                       allowed_networks=["127.0.0.1/32"])


def test_fetcher_streams_without_head_or_length(site: Site, tmp_path: Path) -> None:
    staging = FileStagingArea(str(tmp_path))
    image_id = str(uuid.uuid4())
    stream = _fetcher(site).open(f"{site.base}/image.raw")
    try:
        assert staging.write(image_id, stream) == len(DATA)
    finally:
        stream.close()
    assert [method for method, _path, _headers in site.requests] == ["GET"]


def test_the_size_cap_is_enforced_while_reading(site: Site, tmp_path: Path) -> None:
    staging = FileStagingArea(str(tmp_path))
    stream = _fetcher(site).open(f"{site.base}/image.raw")
    try:
        with pytest.raises(SizeLimitExceeded):
            staging.write(str(uuid.uuid4()), stream, max_size=len(DATA) - 1)
    finally:
        stream.close()


def test_web_download_import_from_a_chunked_get_only_server(site: Site, tmp_path: Path) -> None:
    settings = DomainSettings()
    gateway = Gateway(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(),
        policy=DefaultPolicy(), notifier=NullNotifier(), settings=settings,
        staging=FileStagingArea(str(tmp_path)), executor=InlineExecutor(),
        fetcher=_fetcher(site),
    )
    svc = gateway.service(RequestContext(project_id="p1", user_id="u1", roles=("member",)))
    image = svc.create_image(name="web", disk_format="raw", container_format="bare")
    task = svc.import_image(image.id, ImportRequest(method="web-download",
                                                    uri=f"{site.base}/image.raw"))
    assert task is not None
    done = svc.get_image(image.id)
    assert done.status == "active", gateway.importer.tasks.get(task.id).message
    assert done.size == len(DATA)
    download = svc.download_data(image.id)
    assert download is not None and b"".join(download.stream) == DATA


def test_a_redirect_must_pass_the_uri_filtering_too(tmp_path: Path) -> None:
    """A URL the filtering accepts may not redirect to one it refuses (another port here), as
    Glance checks every redirect target."""
    with serve() as allowed, serve() as refused:
        refused.files["/secret"] = b"internal"
        allowed.files["/image.raw"] = DATA
        allowed.redirects["/x"] = f"{refused.base}/secret"
        allowed.redirects["/y"] = f"{allowed.base}/image.raw"
        port = int(allowed.base.rsplit(":", 1)[1])
        fetcher = HttpFetcher(uri_filter=ImportFilter(allowed_ports=(port,)),
                              allowed_networks=["127.0.0.1/32"])
        with pytest.raises(InvalidInput):
            fetcher.check(f"{refused.base}/secret")
        with pytest.raises(StoreUnavailable, match="Redirect to disallowed URL"):
            fetcher.open(f"{allowed.base}/x")
        assert refused.requests == []
        stream = fetcher.open(f"{allowed.base}/y")  # a redirect within the filter is followed
        try:
            assert b"".join(stream) == DATA
        finally:
            stream.close()
