"""Concurrent writers with real threads on every backend (each thread its own connection)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs
from sqlalchemy import Engine, func, select

from glance_domain import errors
from glance_domain.model.member import Member
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import image_members

THREADS = 6


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_only_one_status_change_from_the_same_state_wins(
    db_engine: Engine, make_image: Any
) -> None:
    repo = SqlImageRepository(db_engine)
    for _round in range(3):
        queued = repo.add(make_image(status="queued"))
        results = race(THREADS, lambda i, q=queued: repo.save(
            q, attrs.evolve(q, status="saving", extra_properties={"uploader": str(i)})))
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert all(isinstance(e, errors.Conflict) for e in losers), losers
        stored = repo.get(queued.id)
        assert stored.status == "saving"
        assert stored.extra_properties == winners[0].extra_properties


def test_concurrent_updates_of_different_properties_lose_none(
    db_engine: Engine, make_image: Any
) -> None:
    repo = SqlImageRepository(db_engine)
    base = repo.add(make_image(extra_properties={"common": "x"}, tags={"t"}))

    def update(i: int) -> Any:
        props = {**base.extra_properties, f"p{i}": str(i)}
        return repo.save(base, attrs.evolve(base, extra_properties=props,
                                            tags=base.tags | {f"t{i}"}))

    results = race(THREADS, update)
    assert not [r for r in results if isinstance(r, Exception)], results
    stored = repo.get(base.id)
    assert dict(stored.extra_properties) == {
        "common": "x", **{f"p{i}": str(i) for i in range(THREADS)}
    }
    assert stored.tags == frozenset({"t", *(f"t{i}" for i in range(THREADS))})


def _active_rows(engine: Engine, image_id: str, member_id: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(image_members).where(
                image_members.c.image_id == image_id, image_members.c.member == member_id,
                image_members.c.deleted.is_(False))
        ).scalar_one())


def test_concurrent_adds_of_one_member_make_one_membership(
    db_engine: Engine, make_image: Any
) -> None:
    repo = SqlImageRepository(db_engine)
    image = repo.add(make_image(visibility="shared"))
    m = Member(image_id=image.id, member_id="p2", status="pending",
               created_at=image.created_at, updated_at=image.created_at)
    results = race(THREADS, lambda i: repo.add_member(m))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert all(isinstance(r, errors.Duplicate) for r in results if isinstance(r, Exception))
    assert _active_rows(db_engine, image.id, "p2") == 1


def test_add_and_remove_races_leave_a_consistent_state(
    db_engine: Engine, make_image: Any
) -> None:
    repo = SqlImageRepository(db_engine)
    image = repo.add(make_image(visibility="shared"))
    m = Member(image_id=image.id, member_id="p3", status="pending",
               created_at=image.created_at, updated_at=image.created_at)

    def churn(i: int) -> int:
        done = 0
        for _ in range(5):
            try:
                if i % 2:
                    repo.add_member(m)
                else:
                    repo.remove_member(m)
                done += 1
            except (errors.Duplicate, errors.NotFound):
                pass
        return done

    results = race(THREADS, churn)
    assert not [r for r in results if isinstance(r, Exception)], results
    active = _active_rows(db_engine, image.id, "p3")
    assert active in (0, 1)
    listed = [x.member_id for x in repo.list_members(image.id)]
    assert listed == (["p3"] if active else [])
    assert (repo.member_status(image.id, "p3") is not None) == bool(active)
