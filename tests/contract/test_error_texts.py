"""Repository error texts are Glance's (clients and the conformance suite compare them)."""

from __future__ import annotations

from typing import Any

import pytest

from glance_domain import errors
from glance_domain.model.member import Member
from glance_domain.ports import ImageRepository

from .test_repository_contract import repo  # noqa: F401  (the four-backend fixture)


def test_duplicate_image_id_text(repo: ImageRepository, make_image: Any) -> None:  # noqa: F811
    image = repo.add(make_image())
    with pytest.raises(errors.Duplicate) as err:
        repo.add(make_image(id=image.id))
    assert str(err.value) == f"Image ID {image.id} already exists!"


def test_missing_member_text(repo: ImageRepository, make_image: Any) -> None:  # noqa: F811
    image = repo.add(make_image(visibility="shared"))
    expected = f"nobody not found in the member list of the image {image.id}."
    with pytest.raises(errors.NotFound) as err:
        repo.get_member(image.id, "nobody")
    assert str(err.value) == expected
    ghost = Member(image_id=image.id, member_id="nobody", created_at=image.created_at,
                   updated_at=image.updated_at)
    with pytest.raises(errors.NotFound) as err:
        repo.remove_member(ghost)
    assert str(err.value) == expected
