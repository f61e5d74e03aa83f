"""The status machine: one table, Glance's transitions, formats required before data."""

from __future__ import annotations

import datetime as dt

import pytest

from glance_domain import TRANSITIONS, Image, InvalidInput, InvalidStatusTransition
from glance_domain.model.status import check_transition, transition

NOW = dt.datetime(2024, 1, 1)


def image(status: str, **kw: object) -> Image:
    base = {"disk_format": "raw", "container_format": "bare"}
    base.update(kw)  # type: ignore[arg-type]
    return Image(id="x", status=status, created_at=NOW, updated_at=NOW, **base)  # type: ignore


def test_table_is_glances() -> None:
    assert TRANSITIONS["queued"] == {"saving", "uploading", "importing", "active", "deleted"}
    assert TRANSITIONS["saving"] == {"active", "killed", "deleted", "queued"}
    assert TRANSITIONS["active"] == {"pending_delete", "deleted", "deactivated"}
    assert TRANSITIONS["deactivated"] == {"active", "deleted"}
    assert TRANSITIONS["deleted"] == frozenset()


@pytest.mark.parametrize("current", list(TRANSITIONS))
@pytest.mark.parametrize("target", list(TRANSITIONS))
def test_every_pair_follows_the_table(current: str, target: str) -> None:
    if target in TRANSITIONS[current]:
        assert transition(image(current), target).status == target
    else:
        with pytest.raises(InvalidStatusTransition, match=f"from {current} to {target}"):
            check_transition(image(current), target)


@pytest.mark.parametrize("target", ["saving", "active", "importing"])
def test_formats_required_before_data(target: str) -> None:
    with pytest.raises(InvalidInput, match="Properties disk_format, container_format must"):
        check_transition(image("queued", disk_format=None, container_format=None), target)
    with pytest.raises(InvalidInput, match="Property container_format must be set"):
        check_transition(image("queued", container_format=None), target)


def test_back_to_queued_clears_size() -> None:
    back = transition(image("saving", size=5, virtual_size=9), "queued")
    assert back.size is None and back.virtual_size is None
