"""Delayed delete and the scrubber over every repository: memory, SQLite, PostgreSQL, MariaDB.

A delete that keeps the data leaves a ``pending_delete`` image (hidden like a deleted one)
whose locations wait in the scrub queue; the scrubber deletes their data after ``scrub_time``,
once each even with several scrubbers at work, and picks up the claims of a scrubber that
died; ``restore`` brings the image back whole until a scrubber has started on it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import attrs
import pytest

from glance_domain import errors
from glance_domain.memory import MemoryStoreRegistry
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import ImageRepository, ScrubQueue
from glance_domain.scrubber import Scrubber

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def clock() -> dt.datetime:
    return NOW


@pytest.fixture(params=["memory", "sqlite", "postgresql", "mariadb"])
def repo_and_queue(request: pytest.FixtureRequest) -> tuple[ImageRepository, ScrubQueue]:
    if request.param == "memory":
        from glance_domain.memory import MemoryImageRepository
        from glance_domain.scrub_memory import MemoryScrubQueue

        class Clock:
            def now(self) -> dt.datetime:
                return NOW

        memory = MemoryImageRepository(clock=Clock())
        return memory, MemoryScrubQueue(memory)
    from glance_domain_adapters.db.repository import SqlImageRepository
    from glance_domain_adapters.db.scrub_queue import SqlScrubQueue

    sql = SqlImageRepository(request.getfixturevalue("fresh_engine")(request.param), clock=clock)
    return sql, SqlScrubQueue(sql.engine, sql.get)


class CountingStores(MemoryStoreRegistry):
    """A memory store that counts deletes per URL (and can be told to fail them)."""

    def __init__(self) -> None:
        super().__init__()
        self.deletes: Counter[str] = Counter()
        self.failing = False
        self.lock = threading.Lock()

    def delete(self, url: str) -> None:
        if self.failing:
            raise OSError("backend down")
        with self.lock:
            self.deletes[url] += 1
        super().delete(url)


def stored_image(repo: ImageRepository, stores: CountingStores, make_image: Any,
                 copies: int = 1) -> Any:
    image = make_image(status="active", size=4, disk_format="raw", container_format="bare")
    locations = []
    for n in range(copies):
        stored = stores.write(f"{image.id}-{n}", [b"data"], backend=None, size=4)
        locations.append(Location(url=stored.url, metadata={"store": "default"}))
    image = attrs.evolve(image, locations=tuple(locations), extra_properties={"k": "v"},
                         tags=frozenset({"t"}))
    repo.add(image)
    repo.add_member(Member(image_id=image.id, member_id="p2", status="accepted",
                           created_at=image.created_at, updated_at=image.created_at))
    return repo.get(image.id)


def scrubber(queue: ScrubQueue, stores: CountingStores, *, later: int = 0,
             **kwargs: Any) -> Scrubber:
    """A scrubber whose clock says ``later`` seconds after the deletes."""

    class Clock:
        def now(self) -> dt.datetime:
            return NOW + dt.timedelta(seconds=later)

    return Scrubber(queue, stores, clock=Clock(), **kwargs)


def exists(stores: CountingStores, url: str) -> bool:
    try:
        stores.read(url).close()
    except errors.NotFound:
        return False
    return True


def test_a_delayed_delete_hides_the_image_and_keeps_its_data(
        repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image)
    removed = repo.remove(image, keep_data=True)
    assert removed.status == "pending_delete"
    with pytest.raises(errors.NotFound):
        repo.get(image.id)
    assert exists(stores, image.locations[0].url)
    with pytest.raises(errors.Duplicate):
        repo.add(image)  # the id stays taken
    jobs = queue.due(NOW, NOW, 10)
    assert [(j.image_id, j.url) for j in jobs] == [(image.id, image.locations[0].url)]
    assert queue.due(NOW - dt.timedelta(seconds=1), NOW, 10) == []  # not due before the delete


def test_the_scrubber_deletes_due_data_once_and_finishes_the_image(
        repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image, copies=2)
    kept = stored_image(repo, stores, make_image)
    repo.remove(image, keep_data=True)
    assert scrubber(queue, stores, scrub_time=60).run().locations == 0  # not yet due
    assert all(exists(stores, loc.url) for loc in image.locations)
    report = scrubber(queue, stores, scrub_time=60, later=61).run()
    assert (report.images, report.locations, report.failed) == (1, 2, 0)
    assert not any(exists(stores, loc.url) for loc in image.locations)
    assert exists(stores, kept.locations[0].url)
    assert queue.due(NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1), 10) == []
    with pytest.raises(errors.Conflict, match="cannot restore the image from deleted"):
        queue.restore(image.id)
    assert scrubber(queue, stores, later=120).run().locations == 0
    assert set(stores.deletes.values()) == {1}


def test_restore_brings_the_whole_image_back(repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image, copies=2)
    repo.remove(image, keep_data=True)
    restored = queue.restore(image.id)
    assert restored.status == "active"
    again = repo.get(image.id)
    assert [loc.url for loc in again.locations] == [loc.url for loc in image.locations]
    assert all(loc.status == "active" for loc in again.locations)
    assert again.extra_properties == {"k": "v"} and again.tags == frozenset({"t"})
    assert [m.member_id for m in repo.list_members(image.id)] == ["p2"]
    assert queue.due(NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1), 10) == []
    assert scrubber(queue, stores, later=60).run().locations == 0
    assert stores.deletes == Counter()
    # and it can be deleted again (no tombstone left behind by the restore)
    repo.remove(again, keep_data=True)
    assert scrubber(queue, stores, later=60).run().locations == 2


def test_restore_of_unknown_or_live_images_fails_as_glance(
        repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image)
    with pytest.raises(errors.NotFound, match="No image found with ID nope"):
        queue.restore("nope")
    with pytest.raises(errors.Conflict, match=r"cannot restore the image from active to active "
                       r"\(wanted from_state=pending_delete\)"):
        queue.restore(image.id)


def test_a_claim_wins_once_and_blocks_restore(repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image)
    repo.remove(image, keep_data=True)
    (job,) = queue.due(NOW, NOW, 10)
    assert queue.claim(job, NOW + dt.timedelta(seconds=1))
    assert not queue.claim(job, NOW + dt.timedelta(seconds=2))  # the second scrubber loses
    with pytest.raises(errors.Conflict):
        queue.restore(image.id)  # data is being deleted: too late
    # a fresh claim hides the job; an expired one gives it to the next scrubber
    assert queue.due(NOW, NOW, 10) == []
    (taken_over,) = queue.due(NOW, NOW + dt.timedelta(seconds=5), 10)
    assert queue.claim(taken_over, NOW + dt.timedelta(seconds=6))
    queue.finish(taken_over)
    assert queue.due(NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1), 10) == []


def test_a_failed_delete_is_tried_again_later(repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image)
    repo.remove(image, keep_data=True)
    stores.failing = True
    report = scrubber(queue, stores, later=10, claim_timeout=0).run()
    assert (report.images, report.locations, report.failed) == (0, 0, 1)
    assert exists(stores, image.locations[0].url)
    stores.failing = False
    assert scrubber(queue, stores, later=20, claim_timeout=5).run().locations == 1
    assert not exists(stores, image.locations[0].url)


def test_parallel_scrubbers_delete_each_location_once(
        repo_and_queue: Any, make_image: Any) -> None:
    repo, queue = repo_and_queue
    stores = CountingStores()
    images = [stored_image(repo, stores, make_image, copies=2) for _ in range(12)]
    for image in images:
        repo.remove(image, keep_data=True)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(
        scrubber(queue, stores, later=5, pool_size=3).run())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.locations for r in reports) == 24
    assert len(stores.deletes) == 24 and set(stores.deletes.values()) == {1}
    assert not any(exists(stores, loc.url) for image in images for loc in image.locations)


def test_the_scrubber_keeps_data_another_image_lists(
        repo_and_queue: Any, make_image: Any) -> None:
    """Two images listing one location (older records, racing adds): scrubbing one keeps the
    data while the other lists it, and a pending-delete (restorable) image keeps it for the
    other's immediate delete too (issue 12: a location belongs to one image)."""
    repo, queue = repo_and_queue
    stores = CountingStores()
    image = stored_image(repo, stores, make_image)
    url = image.locations[0].url
    other = repo.add(make_image(status="active", size=4, locations=(
        Location(url=url, metadata={"store": "default"}),)))
    repo.remove(image, keep_data=True)
    assert repo.location_users(url) == sorted([image.id, other.id])  # restorable: still a user
    report = scrubber(queue, stores, location_users=repo.location_users).run()
    assert (report.locations, report.failed) == (1, 0)
    assert exists(stores, url) and stores.deletes[url] == 0
    assert repo.location_users(url) == [other.id]
    assert queue.due(NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1), 10) == []
