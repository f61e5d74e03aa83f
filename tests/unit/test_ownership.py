"""The one ownership rule (review P2.2): ``visibility.owns`` and ``visibility.can_see_owned``
decide for images, members, tasks and metadata-definition namespaces alike."""

from __future__ import annotations

import pytest

from glance_domain import visibility
from glance_domain.context import RequestContext

ADMIN = RequestContext(project_id="adm", roles=("admin",), is_admin=True)
P1 = RequestContext(project_id="p1", roles=("member",))
NOBODY = RequestContext(project_id=None, roles=("member",))


@pytest.mark.parametrize(("context", "owner", "expected"), [
    (ADMIN, "p1", True), (ADMIN, None, True),
    (P1, "p1", True), (P1, "p2", False), (P1, None, False),
    (NOBODY, None, False), (NOBODY, "p1", False),
])
def test_owns(context: RequestContext, owner: str | None, expected: bool) -> None:
    assert visibility.owns(context, owner) is expected


@pytest.mark.parametrize(("context", "owner", "vis", "expected"), [
    (ADMIN, "p2", "private", True),
    (P1, "p1", "private", True),
    (P1, "p2", "private", False),
    (P1, "p2", "public", True),
    (P1, "p2", "community", True),
    (P1, "p2", "shared", False),
    (P1, None, "private", True),  # ownerless: everyone's
    (NOBODY, "p2", "private", False),
])
def test_can_see_owned(context: RequestContext, owner: str | None, vis: str,
                       expected: bool) -> None:
    assert visibility.can_see_owned(context, owner, vis) is expected
