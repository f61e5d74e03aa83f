"""What a caller asks for when listing images, and what it may be shown.

``ImageQuery`` is built at the edge from ``GET /v2/images`` parameters (already typed: ints,
bools, datetimes). ``ListScope`` is decided by ``glance_domain.visibility.list_scope`` from the
caller's context and the query's ``visibility``/``member_status``: it is the *one* description of
which images a listing may include. Repositories only translate it (to SQL, or to a Python
predicate); they never decide visibility themselves.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

FilterOp = Literal["eq", "neq", "in", "gt", "gte", "lt", "lte"]
SortDir = Literal["asc", "desc"]

#: Core attributes a listing may sort by (Glance's list).
SORTABLE_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
    "visibility",
    "owner",
    "min_disk",
    "min_ram",
    "virtual_size",
    "os_hidden",
    "protected",
)


@attrs.frozen
class Filter:
    """One condition: ``field op value``.

    ``field`` is a core attribute (``name``, ``status``, ``size``, ``created_at``...) or, when it is
    not one, an extra property compared as a string. For ``in`` the value is a tuple.
    """

    field: str
    op: FilterOp
    value: Any


@attrs.frozen
class SortKey:
    """One sort key and its direction."""

    key: str
    direction: SortDir = "desc"


DEFAULT_SORT = (SortKey("created_at", "desc"), SortKey("id", "desc"))


@attrs.frozen(kw_only=True)
class ImageQuery:
    """A listing request: filters, tags, visibility, sort, and keyset pagination.

    - ``filters`` are ANDed; ``tags`` all have to be present (repeated ``tag`` is AND).
    - ``visibility`` is None (Glance's default view) or one of public, private, shared,
      community, all; ``member_status`` is accepted (default), pending, rejected or all.
    - ``os_hidden``: False (default) hides hidden images, True shows only hidden, None both.
    - ``sort`` always ends with a unique key (the edge appends ``id``) so pages are stable.
    - ``marker`` is the id of the last image of the previous page; an unknown or invisible
      marker is an ``InvalidInput`` error.
    """

    filters: tuple[Filter, ...] = ()
    tags: tuple[str, ...] = ()
    visibility: str | None = None
    member_status: str = "accepted"
    os_hidden: bool | None = False
    sort: tuple[SortKey, ...] = DEFAULT_SORT
    limit: int = 25
    marker: str | None = None


@attrs.frozen(kw_only=True)
class ScopeClause:
    """One way an image can be in a listing; every field that is set must hold.

    - ``owner``: the image's owner equals this project.
    - ``visibilities``: the image's visibility is one of these.
    - ``member`` + ``member_statuses``: the project is a (non-deleted) member of the image with a
      status in ``member_statuses``.
    """

    owner: str | None = None
    visibilities: frozenset[str] | None = None
    member: str | None = None
    member_statuses: frozenset[str] | None = None


@attrs.frozen(kw_only=True)
class ListScope:
    """Which images a listing may return: any image matching at least one clause.

    ``unrestricted`` (an admin's default view) means every non-deleted image; ``visibility``,
    when set, further keeps only images with that visibility. ``admin``: the caller is an
    admin, so any image may be the page marker, even a deleted one (Glance's
    ``can_see_deleted``).
    """

    clauses: tuple[ScopeClause, ...] = ()
    unrestricted: bool = False
    visibility: str | None = None
    admin: bool = False
