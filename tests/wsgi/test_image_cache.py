"""The image cache through the real WSGI app: the management API, downloads that fill the
cache and are served from it, ranges, prefetching, pruning, eviction."""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
import pathlib
from typing import Any

import pytest

from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.ports import DataStream
from glance_domain.settings import DomainSettings
from glance_domain_adapters.image_cache import FileImageCache, Prefetcher
from glance_domain_adapters.wsgi.app import make_app

from .conftest import ADMIN, ALICE, BOB, Client

DATA = os.urandom(300_000)
IMAGE_ID = "6f1c2f0e-3a57-4d1e-9a43-0c5a6a8e2b11"


class CountingStores(MemoryStoreRegistry):
    """The in-memory stores, counting whole and ranged reads."""

    def __init__(self) -> None:
        super().__init__(("fast", "slow"), hashing_algorithm="sha512")
        self.reads: list[tuple[int, int | None]] = []

    def read(self, url: str, *, offset: int = 0, length: int | None = None) -> DataStream:
        self.reads.append((offset, length))
        return super().read(url, offset=offset, length=length)


class Setup:
    def __init__(self, tmp: pathlib.Path, *, serve: bool = True, cache_on: bool = True,
                 max_size: int = 10 << 30, file_wrapper: bool = False) -> None:
        self.stores = CountingStores()
        self.cache = FileImageCache(str(tmp / "cache"), max_size=max_size) if cache_on else None
        self.gateway = Gateway(
            repository=MemoryImageRepository(), stores=self.stores, policy=DefaultPolicy(),
            notifier=NullNotifier(), settings=DomainSettings(), cache=self.cache,
            serve_from_cache=serve,
        )
        self.prefetcher = (Prefetcher(self.cache, self.gateway.prefetch, interval=0)
                           if self.cache is not None else None)
        app = make_app(self.gateway, DomainSettings(), cache=self.cache,
                       prefetcher=self.prefetcher)
        self.client = Client(app, ALICE)

    def image(self, data: bytes = DATA, **kw: Any) -> str:
        image_id = self.client.create(name="cached", disk_format="raw",
                                      container_format="bare", **kw)["id"]
        assert self.client.upload(image_id, data).status_int == 204
        return image_id

    def download(self, image_id: str, **kw: Any) -> Any:
        resp = self.client.get(f"/v2/images/{image_id}/file", **kw)
        _ = resp.body  # the whole body read, as a client does
        return resp

    def settle(self) -> None:
        """Wait for background copies (the tee's writer thread, then the file copier)."""
        import threading
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                t.name == "image-cache-tee" for t in threading.enumerate()):
            time.sleep(0.01)
        assert self.cache is not None
        self.cache.wait()

    def wipe_store(self, image_id: str) -> None:
        """Remove the image's data from its store behind the service's back."""
        image = self.gateway.repository.get(image_id)
        for location in image.locations:
            self.stores.delete(location.url)


@pytest.fixture
def setup(tmp_path: pathlib.Path) -> Setup:
    return Setup(tmp_path)


# -- downloads ---------------------------------------------------------------------------------
def test_first_download_fills_the_cache_and_the_second_is_served_from_it(setup: Setup) -> None:
    image_id = setup.image()
    first = setup.download(image_id)
    assert first.status_int == 200 and first.body == DATA
    setup.settle()
    assert [r["image_id"] for r in setup.cache.cached_images()] == [image_id]  # type: ignore
    reads = len(setup.stores.reads)
    setup.wipe_store(image_id)
    second = setup.download(image_id)
    assert second.status_int == 200 and second.body == DATA
    assert second.headers["Content-MD5"] == hashlib.md5(DATA).hexdigest()
    assert second.headers["Content-Length"] == str(len(DATA))
    assert len(setup.stores.reads) == reads  # not read from the store again
    assert setup.cache.cached_images()[0]["hits"] == 1  # type: ignore[union-attr]


def test_cache_hit_is_served_with_the_servers_file_wrapper(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    wrapped: list[Any] = []

    def file_wrapper(file: Any, block: int) -> Any:
        wrapped.append(file)
        return iter(lambda: file.read(block), b"")

    import webob

    req = webob.Request.blank(f"/v2/images/{image_id}/file", headers=ALICE)
    req.environ["wsgi.file_wrapper"] = file_wrapper
    resp = req.get_response(setup.client.app)
    assert resp.status_int == 200 and resp.body == DATA
    assert len(wrapped) == 1
    assert wrapped[0].fileno() >= 0  # an open file: sendfile can use it


def test_ranged_downloads_are_served_from_the_cache_and_do_not_fill_it(setup: Setup) -> None:
    image_id = setup.image()
    ranged = setup.download(image_id, headers={"Range": "bytes=10-19"})
    assert ranged.status_int == 206 and ranged.body == DATA[10:20]
    setup.settle()
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    setup.download(image_id)
    setup.settle()
    setup.wipe_store(image_id)
    for header, expected in (("bytes=10-19", DATA[10:20]), ("bytes=-5", DATA[-5:]),
                             (f"bytes={len(DATA) - 7}-", DATA[-7:])):
        resp = setup.download(image_id, headers={"Range": header})
        assert resp.status_int == 206 and resp.body == expected, header
    unsatisfiable = setup.download(image_id, headers={"Range": f"bytes={len(DATA)}-"})
    assert unsatisfiable.status_int == 416


def test_a_download_the_client_abandons_caches_nothing(setup: Setup) -> None:
    import webob

    image_id = setup.image()
    req = webob.Request.blank(f"/v2/images/{image_id}/file", headers=ALICE)
    status, _headers, body = req.call_application(setup.client.app)
    assert status.startswith("200")
    next(iter(body))  # one chunk, then the client goes away
    body.close()  # type: ignore[attr-defined]
    setup.settle()
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    assert os.listdir(setup.cache.incomplete_dir) == []  # type: ignore[union-attr]


def test_data_not_matching_its_checksum_is_not_cached(setup: Setup) -> None:
    image_id = setup.image()
    image = setup.gateway.repository.get(image_id)
    import attrs

    setup.gateway.repository.save(image, attrs.evolve(image, checksum="0" * 32))
    resp = setup.download(image_id)
    assert resp.status_int == 200 and resp.body == DATA  # the download itself is untouched
    setup.settle()
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]


def test_without_the_caching_flavor_downloads_bypass_the_cache(tmp_path: pathlib.Path) -> None:
    setup = Setup(tmp_path, serve=False)
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]


def test_deactivated_images_are_not_served_from_the_cache(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    setup.wipe_store(image_id)
    assert setup.client.post(f"/v2/images/{image_id}/actions/deactivate",
                             as_=ADMIN).status_int == 204
    assert setup.download(image_id).status_int == 403  # the owner: forbidden
    admin = setup.download(image_id, as_=ADMIN)  # an admin: from the store (gone: an error)
    assert admin.status_int != 200 or admin.body != DATA


def test_deleting_an_image_evicts_its_copy(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    assert os.path.exists(setup.cache.path_of(image_id))  # type: ignore[union-attr]
    assert setup.client.delete(f"/v2/images/{image_id}").status_int == 204
    assert not os.path.exists(setup.cache.path_of(image_id))  # type: ignore[union-attr]
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    assert setup.download(image_id).status_int == 404


def test_a_copy_of_other_data_is_never_served(setup: Setup) -> None:
    """Changed locations (new data behind the image) make the copy stale, even one another
    process left in the cache directory."""
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    path = setup.cache.path_of(image_id)  # type: ignore[union-attr]
    image = setup.gateway.repository.get(image_id)
    other = setup.stores.write(image_id + "-v2", [b"x" * len(DATA)], backend="fast")
    import attrs

    from glance_domain.model.location import Location

    moved = attrs.evolve(image, locations=(Location(url=other.url,
                                                    metadata={"store": "fast"}),),
                         checksum=other.checksum, os_hash_value=other.hash_value)
    setup.gateway.repository.save(image, moved)  # behind the service's back
    resp = setup.download(image_id)
    assert resp.status_int == 200 and resp.body == b"x" * len(DATA)
    setup.settle()
    with open(path, "rb") as f:  # refilled with the new data
        assert f.read() == b"x" * len(DATA)


def test_a_truncated_copy_is_dropped_and_the_store_used(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    with open(setup.cache.path_of(image_id), "r+b") as f:  # type: ignore[union-attr]
        f.truncate(100)
    resp = setup.download(image_id)
    assert resp.status_int == 200 and resp.body == DATA


def test_images_of_others_are_not_served_from_the_cache(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    assert setup.download(image_id, as_=BOB).status_int == 404


# -- the management API ------------------------------------------------------------------------
def test_cache_state_lists_cached_and_queued_images(setup: Setup) -> None:
    cached, queued = setup.image(), setup.image(b"queued data")
    setup.download(cached)
    setup.settle()
    setup.cache.queue(queued)  # type: ignore[union-attr]
    assert setup.client.get("/v2/cache").status_int == 403
    state = setup.client.get("/v2/cache", as_=ADMIN)
    assert state.status_int == 200
    assert state.json["queued_images"] == [queued]
    [record] = state.json["cached_images"]
    assert record["image_id"] == cached and record["size"] == len(DATA)
    assert set(record) == {"id", "image_id", "hits", "last_accessed", "last_modified", "size",
                           "checksum"}
    assert record["checksum"] == hashlib.md5(DATA).hexdigest()


def test_queueing_an_image_prefetches_it(setup: Setup) -> None:
    image_id = setup.image()
    resp = setup.client.put(f"/v2/cache/{image_id}", as_=ADMIN)
    assert resp.status_int == 202 and resp.body == b""
    setup.prefetcher.join()  # type: ignore[union-attr]
    assert [r["image_id"] for r in setup.cache.cached_images()] == [image_id]  # type: ignore
    assert setup.cache.queued_images() == []  # type: ignore[union-attr]
    setup.wipe_store(image_id)
    assert setup.download(image_id).body == DATA


def test_queueing_refuses_what_glance_refuses(setup: Setup) -> None:
    queued_image = setup.client.create(name="empty")["id"]
    resp = setup.client.put(f"/v2/cache/{queued_image}", as_=ADMIN)
    assert resp.status_int == 400
    assert "Only images with status active can be targeted for queueing" in resp.text
    missing = setup.client.put("/v2/cache/00000000-0000-0000-0000-000000000000", as_=ADMIN)
    assert missing.status_int == 404
    assert "Image 00000000-0000-0000-0000-000000000000 not found." in missing.text
    image_id = setup.image()
    refused = setup.client.put(f"/v2/cache/{image_id}")
    assert refused.status_int == 403
    assert setup.cache.queued_images() == []  # type: ignore[union-attr]


def test_deleting_one_entry(setup: Setup) -> None:
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    assert setup.client.delete(f"/v2/cache/{image_id}").status_int == 403
    resp = setup.client.delete(f"/v2/cache/{image_id}", as_=ADMIN)
    assert resp.status_int == 204
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    assert not os.path.exists(setup.cache.path_of(image_id))  # type: ignore[union-attr]
    unknown = setup.client.delete("/v2/cache/11111111-1111-1111-1111-111111111111", as_=ADMIN)
    assert unknown.status_int == 404


def test_deleting_the_entry_of_an_image_that_no_longer_exists(setup: Setup) -> None:
    """Glance lets an entry outlive its image (another host deleted it) be removed."""
    ghost = "22222222-2222-2222-2222-222222222222"
    setup.cache.queue(ghost)  # type: ignore[union-attr]
    assert setup.client.delete(f"/v2/cache/{ghost}", as_=ADMIN).status_int == 204
    assert setup.cache.queued_images() == []  # type: ignore[union-attr]


@pytest.mark.parametrize(("target", "cached_left", "queued_left"), [
    (None, 0, 0), ("", 0, 0), ("cache", 0, 1), ("queue", 1, 0), ("CACHE", 0, 1),
])
def test_clearing_the_cache(setup: Setup, target: str | None, cached_left: int,
                            queued_left: int) -> None:
    cached = setup.image()
    setup.download(cached)
    setup.settle()
    setup.cache.queue(setup.image(b"other"))  # type: ignore[union-attr]
    headers = {} if target is None else {"x-image-cache-clear-target": target}
    resp = setup.client.delete("/v2/cache", headers=headers, as_=ADMIN)
    assert resp.status_int == 204 and resp.body == b""
    assert len(setup.cache.cached_images()) == cached_left  # type: ignore[union-attr]
    assert len(setup.cache.queued_images()) == queued_left  # type: ignore[union-attr]


def test_clearing_with_an_unknown_target_is_refused(setup: Setup) -> None:
    resp = setup.client.delete("/v2/cache", headers={"x-image-cache-clear-target": "both"},
                               as_=ADMIN)
    assert resp.status_int == 400
    assert ("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty "
            "string.") in resp.text
    assert setup.client.delete("/v2/cache").status_int == 403


def test_cached_nodes(tmp_path: pathlib.Path) -> None:
    setup = Setup(tmp_path)
    image_id = setup.image()
    assert setup.client.get(f"/v2/cache/nodes/{image_id}").status_int == 403
    assert setup.client.get(f"/v2/cache/nodes/{image_id}", as_=ADMIN).json == []
    setup.cache.node_url = "http://node-1:9292"  # type: ignore[union-attr]
    setup.download(image_id)
    setup.settle()
    assert setup.client.get(f"/v2/cache/nodes/{image_id}", as_=ADMIN).json == [
        "http://node-1:9292"]
    missing = setup.client.get("/v2/cache/nodes/33333333-3333-3333-3333-333333333333",
                               as_=ADMIN)
    assert missing.status_int == 404
    setup.cache.driver = "sqlite"  # type: ignore[union-attr]
    conflict = setup.client.get(f"/v2/cache/nodes/{image_id}", as_=ADMIN)
    assert conflict.status_int == 409 and "Centralized caching is not enabled" in conflict.text


def test_sqlite_driver_lists_glances_sqlite_shape(setup: Setup) -> None:
    setup.cache.driver = "sqlite"  # type: ignore[union-attr]
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    [record] = setup.client.get("/v2/cache", as_=ADMIN).json["cached_images"]
    assert set(record) == {"image_id", "hits", "last_accessed", "last_modified", "size"}


def test_without_a_cache_the_api_is_not_supported(tmp_path: pathlib.Path) -> None:
    setup = Setup(tmp_path, cache_on=False)
    resp = setup.client.get("/v2/cache", as_=ADMIN)
    assert resp.status_int == 404 and "Caching via API is not supported" in resp.text


# -- pruning and cleaning ----------------------------------------------------------------------
def test_prune_removes_least_recently_used_copies_first(tmp_path: pathlib.Path) -> None:
    setup = Setup(tmp_path, max_size=2 * len(DATA))
    ids = [setup.image(os.urandom(len(DATA))) for _ in range(3)]
    for image_id in ids:
        setup.download(image_id)
        setup.settle()
    setup.download(ids[0])  # used again: now the most recent
    assert setup.cache.prune() == (1, len(DATA))  # type: ignore[union-attr]
    left = {r["image_id"] for r in setup.cache.cached_images()}  # type: ignore[union-attr]
    assert left == {ids[0], ids[2]}
    assert setup.cache.size() <= 2 * len(DATA)  # type: ignore[union-attr]
    assert setup.cache.prune() == (0, 0)  # type: ignore[union-attr]


def test_clean_removes_stalled_and_invalid_files(setup: Setup) -> None:
    cache = setup.cache
    assert cache is not None
    stalled = os.path.join(cache.incomplete_dir, "abc.123")
    fresh = os.path.join(cache.incomplete_dir, "def.456")  # a live fill holds its lock
    abandoned = os.path.join(cache.incomplete_dir, "jkl.789")  # its writer was killed
    invalid = os.path.join(cache.invalid_dir, "ghi")
    for path in (stalled, fresh, abandoned, invalid):
        pathlib.Path(path).write_bytes(b"partial")
    os.utime(stalled, (1, 1))
    with open(fresh, "rb") as live:
        fcntl.flock(live, fcntl.LOCK_EX)
        assert cache.clean(stall_time=3600) == {"invalid": 1, "stalled": 2, "orphaned": 0,
                                                "stale": 0}
        assert os.listdir(cache.incomplete_dir) == ["def.456"]
        assert cache.clean(stall_time=0)["stalled"] == 1


def test_versions_list_the_cache_api_versions_when_the_cache_is_on(
    tmp_path: pathlib.Path,
) -> None:
    """As Glance with image_cache_dir: 2.18 is current and 2.14/2.16 appear (glanceclient's
    cache commands check for 2.14); without it, 2.17 stays current."""
    on = Setup(tmp_path).client.get("/versions").json["versions"]
    assert [v["id"] for v in on[:5]] == ["v2.18", "v2.17", "v2.16", "v2.15", "v2.14"]
    assert [v["id"] for v in on if v["status"] == "CURRENT"] == ["v2.18"]
    assert Setup(tmp_path).client.get("/v2.14/cache", as_=ADMIN).status_int == 200
    off = Setup(tmp_path, cache_on=False).client
    assert [v["id"] for v in off.get("/versions").json["versions"]
            if v["status"] == "CURRENT"] == ["v2.17"]
    assert off.get("/v2.18/images").status_int == 300


def test_a_store_file_sent_with_zero_copy_is_copied_after_the_download(
    tmp_path: pathlib.Path,
) -> None:
    """The file store hands out an open file (sendfile): the download is left alone and the
    file copied in the background once it was sent in full; a partial send copies nothing."""
    from glance_domain.layers.cache import cache_key
    from glance_domain.model.image import Image
    from glance_domain.model.location import Location

    cache = FileImageCache(str(tmp_path / "cache"))
    source = tmp_path / "store-file"
    source.write_bytes(DATA)
    now = datetime.datetime.now(datetime.UTC)
    image = Image(id=IMAGE_ID, status="active", size=len(DATA), created_at=now, updated_at=now,
                  checksum=hashlib.md5(DATA).hexdigest(),
                  locations=(Location(url="file:///store-file"),))
    key = cache_key(image)
    assert key is not None
    for sent, cached in ((len(DATA) // 2, False), (len(DATA), True)):
        file = open(source, "rb", buffering=0)  # noqa: SIM115 - closed by the stream
        stream = DataStream(chunks=iter(()), length=len(DATA), file=file)
        assert cache.fill(key, stream) is stream and stream.file is file  # still zero-copy
        stream.sent = sent  # what the server's file wrapper reports
        stream.close()
        cache.wait()
        assert cache.contains(key) is cached
        assert os.listdir(cache.incomplete_dir) == []
    assert pathlib.Path(cache.path_of(IMAGE_ID)).read_bytes() == DATA


# -- review fixes: only image ids, deletes racing fills, abandoned fills, a locked index -------
def test_deleting_an_entry_only_ever_touches_cached_images(setup: Setup) -> None:
    """``DELETE /v2/cache/<name>`` of something that is not a cached or queued image (the
    index, a stray file) is Glance's 404 and leaves the file alone."""
    cache = setup.cache
    assert cache is not None
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    stray = "44444444-4444-4444-4444-444444444444"  # a file the index does not record
    pathlib.Path(cache.directory, stray).write_bytes(b"not a copy")
    for name in ("cache.db", "cache.db-wal", "incomplete", "queue", stray):
        resp = setup.client.request("DELETE", f"/v2/cache/{name}", as_=ADMIN)
        assert resp.status_int == 404, name
        assert f"Image {name} not found." in resp.text
    assert os.path.exists(cache.db_path) and os.path.exists(os.path.join(cache.directory, stray))
    listing = setup.client.get("/v2/cache", as_=ADMIN)
    assert listing.status_int == 200
    assert [r["image_id"] for r in listing.json["cached_images"]] == [image_id]


def test_the_index_recreates_its_table_when_its_file_was_removed(setup: Setup) -> None:
    cache = setup.cache
    assert cache is not None
    first = setup.image()
    setup.download(first)
    setup.settle()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(cache.db_path + suffix):
            os.unlink(cache.db_path + suffix)
    assert setup.client.get("/v2/cache", as_=ADMIN).json["cached_images"] == []
    second = setup.image()
    setup.download(second)
    setup.settle()
    listing = setup.client.get("/v2/cache", as_=ADMIN)
    assert listing.status_int == 200
    assert [r["image_id"] for r in listing.json["cached_images"]] == [second]
    assert setup.client.delete("/v2/cache", as_=ADMIN).status_int == 204


def _delete_once_its_stream_is_open(setup: Setup, image_id: str) -> None:
    """The image is deleted (by another request) right after a read has its store stream."""
    stores = setup.stores
    original = stores.read
    deleted: list[bool] = []

    def read(url: str, *, offset: int = 0, length: int | None = None) -> DataStream:
        stream = original(url, offset=offset, length=length)
        if not deleted:
            deleted.append(True)
            resp = setup.client.request("DELETE", f"/v2/images/{image_id}")
            assert resp.status_int == 204
        return stream

    stores.read = read  # type: ignore[method-assign]


def test_a_download_racing_a_delete_leaves_no_copy(setup: Setup) -> None:
    image_id = setup.image()
    _delete_once_its_stream_is_open(setup, image_id)
    resp = setup.download(image_id)
    assert resp.status_int == 200 and resp.body == DATA
    setup.settle()
    assert setup.client.get("/v2/cache", as_=ADMIN).json["cached_images"] == []
    assert not os.path.exists(setup.cache.path_of(image_id))  # type: ignore[union-attr]
    assert os.listdir(setup.cache.incomplete_dir) == []  # type: ignore[union-attr]


def test_a_prefetch_racing_a_delete_leaves_no_copy(setup: Setup) -> None:
    image_id = setup.image()
    _delete_once_its_stream_is_open(setup, image_id)
    assert setup.client.request("PUT", f"/v2/cache/{image_id}", as_=ADMIN).status_int == 202
    setup.prefetcher.join()  # type: ignore[union-attr]
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    assert not os.path.exists(setup.cache.path_of(image_id))  # type: ignore[union-attr]


def test_clean_removes_copies_of_deleted_images(setup: Setup) -> None:
    """A copy another host's delete could not evict: ``clean`` with the gateway's check."""
    cache = setup.cache
    assert cache is not None
    kept, gone = setup.image(), setup.image()
    for image_id in (kept, gone):
        setup.download(image_id)
    setup.settle()
    repository = setup.gateway.repository
    repository.remove(repository.get(gone))  # on another host: no eviction here
    assert cache.clean(is_stale=setup.gateway.cached_copy_is_stale)["stale"] == 1
    assert [r["image_id"] for r in cache.cached_images()] == [kept]
    assert not os.path.exists(cache.path_of(gone))


def test_an_abandoned_fill_does_not_block_caching(setup: Setup) -> None:
    """A worker killed while filling leaves its file; with its lock gone, the next download
    takes over at once. A live fill (its lock held) is left alone."""
    cache = setup.cache
    assert cache is not None
    image_id = setup.image()
    live = os.path.join(cache.incomplete_dir, f"{image_id}.0123456789abcdef")
    with open(live, "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        setup.download(image_id)
        setup.settle()
        assert cache.cached_images() == [] and os.path.exists(live)
    # the writer died: its lock is released, its file stays
    assert os.listdir(cache.incomplete_dir) == [os.path.basename(live)]
    setup.download(image_id)
    setup.settle()
    assert [r["image_id"] for r in cache.cached_images()] == [image_id]
    assert os.listdir(cache.incomplete_dir) == []


def test_an_abandoned_fill_does_not_block_queueing(setup: Setup) -> None:
    cache = setup.cache
    assert cache is not None
    image_id = setup.image()
    pathlib.Path(cache.incomplete_dir, f"{image_id}.deadbeefdeadbeef").write_bytes(b"half")
    assert setup.client.request("PUT", f"/v2/cache/{image_id}", as_=ADMIN).status_int == 202
    setup.prefetcher.join()  # type: ignore[union-attr]
    assert [r["image_id"] for r in cache.cached_images()] == [image_id]


def test_a_locked_index_does_not_stall_a_hit(setup: Setup) -> None:
    import sqlite3
    import time

    cache = setup.cache
    assert cache is not None
    image_id = setup.image()
    setup.download(image_id)
    setup.settle()
    setup.wipe_store(image_id)  # only the cache can answer
    locker = sqlite3.connect(cache.db_path, timeout=0, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        resp = setup.download(image_id)
        took = time.monotonic() - started
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert resp.status_int == 200 and resp.body == DATA
    assert took < 2


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v2/cache"), ("DELETE", "/v2/cache"), ("PUT", "/v2/cache/{id}"),
    ("DELETE", "/v2/cache/{id}"), ("GET", "/v2/cache/nodes/{id}"),
])
def test_index_errors_are_a_clean_503(setup: Setup, monkeypatch: pytest.MonkeyPatch,
                                      method: str, path: str) -> None:
    import sqlite3

    cache = setup.cache
    assert cache is not None
    cache.node_url = "http://node-1:9292"
    image_id = setup.image()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    for name in ("get", "all", "delete", "put"):
        monkeypatch.setattr(cache.index, name, broken)
    resp = setup.client.request(method, path.format(id=image_id), as_=ADMIN)
    assert resp.status_int == 503
    assert "The image cache is unavailable" in resp.text


def test_a_copy_not_matching_the_images_multihash_is_not_cached(setup: Setup) -> None:
    image_id = setup.image()
    image = setup.gateway.repository.get(image_id)
    import attrs

    other = attrs.evolve(image, os_hash_value=hashlib.sha512(b"other data").hexdigest())
    setup.gateway.repository.save(image, other)  # same md5, another sha512
    assert setup.download(image_id).status_int == 200
    setup.settle()
    assert setup.cache.cached_images() == []  # type: ignore[union-attr]
    assert os.listdir(setup.cache.incomplete_dir) == []  # type: ignore[union-attr]


def test_cached_nodes_checks_its_rule_once_without_the_image(setup: Setup) -> None:
    """As Glance: ``list_cached_nodes`` with an empty target, then the image is looked up."""
    checked: list[tuple[str, dict[str, Any]]] = []
    policy = setup.gateway.policy
    enforce = policy.enforce

    def recording(context: Any, rule: str, target: Any) -> None:
        checked.append((rule, dict(target)))
        enforce(context, rule, target)

    policy.enforce = recording  # type: ignore[method-assign]
    image_id = setup.image()
    assert setup.client.get(f"/v2/cache/nodes/{image_id}", as_=ADMIN).status_int == 200
    assert [c for c in checked if c[0] == "list_cached_nodes"] == [("list_cached_nodes", {})]
