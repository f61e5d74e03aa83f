"""Timestamps keep microseconds in every repository, so images created within one second sort
by creation (as in Glance) and keyset pagination over them stays exact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from glance_domain.clock import SystemClock
from glance_domain.ports import ImageRepository
from glance_domain.query import ImageQuery, ListScope, SortKey

from .test_repository_contract import repo  # noqa: F401  (the four-backend fixture)

ALL = ListScope(unrestricted=True)
SECOND = dt.datetime(2024, 5, 1, 8, 30, 15)


def test_system_clock_keeps_microseconds() -> None:
    clock = SystemClock()
    stamps = {clock.now().microsecond for _ in range(50)}
    assert stamps != {0}


def test_microseconds_round_trip(repo: ImageRepository, make_image: Any) -> None:  # noqa: F811
    when = SECOND.replace(microsecond=123456)
    added = repo.add(make_image(created_at=when, updated_at=when))
    stored = repo.get(added.id)
    assert (stored.created_at, stored.updated_at) == (when, when)


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_same_second_images_sort_and_paginate_by_microseconds(
    repo: ImageRepository, make_image: Any, direction: str  # noqa: F811
) -> None:
    # ids chosen so that the id tie-breaker alone would give the opposite order
    micros = [10, 20, 30, 40, 999_999]
    made = [
        repo.add(make_image(id=f"00000000-0000-0000-0000-00000000000{9 - i}",
                            created_at=SECOND.replace(microsecond=m)))
        for i, m in enumerate(micros)
    ]
    expected = [i.id for i in made]
    if direction == "desc":
        expected.reverse()
    sort = (SortKey("created_at", direction), SortKey("id", direction))  # type: ignore[arg-type]
    assert [i.id for i in repo.list(ImageQuery(sort=sort, limit=10), ALL)] == expected
    walked: list[str] = []
    marker = None
    while True:
        page = repo.list(ImageQuery(sort=sort, limit=2, marker=marker), ALL)
        if not page:
            break
        walked += [i.id for i in page]
        marker = page[-1].id
    assert walked == expected
