"""``GET /v1/images[/detail]`` parameters -> an :class:`~glance_domain.query.ImageQuery`.

v1's filters (``name``, ``status``, ``container_format``, ``disk_format``, ``size_min``,
``size_max``, ``min_ram``, ``min_disk``, ``protected``, ``is_public``, ``property-<key>``) and
paging (``limit``, ``marker``, ``sort_key``, ``sort_dir``), with v1's error texts. The listing
shows what the caller may see through v2 (public, its own, shared with it in any member
status, as v1's ``member_status=all``); ``is_public`` narrows it by visibility.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from glance_domain.query import Filter, ImageQuery, SortKey
from glance_domain_adapters.wsgi.errors import bad_request

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
             "updated_at")
SORT_DIRS = ("asc", "desc")
_TEXT_FILTERS = ("name", "status", "container_format", "disk_format")
_INT_FILTERS = {"size_min": ("size", "gte"), "size_max": ("size", "lte"),
                "min_ram": ("min_ram", "eq"), "min_disk": ("min_disk", "eq")}
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


def _bad_filter(name: str, value: str) -> Exception:
    return bad_request(f"Bad value passed to filter {name} got {value}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse_query(
    params: Sequence[tuple[str, str]], *, default_limit: int, max_limit: int,
) -> ImageQuery:
    """The query of a v1 listing (400 with v1's texts for bad values)."""
    values = dict(params)  # v1 (webob's params.get) takes the last value of a repeated key
    filters: list[Filter] = []
    for name in _TEXT_FILTERS:
        if name in values:
            filters.append(Filter(name, "eq", values[name]))
    for name, (field, op) in _INT_FILTERS.items():
        if name in values:
            try:
                number = int(values[name])
            except ValueError:
                raise _bad_filter(name, values[name]) from None
            if number < 0:
                raise _bad_filter(name, values[name])
            filters.append(Filter(field, op, number))  # type: ignore[arg-type]
    if "protected" in values:
        flag = _BOOLS.get(values["protected"].lower())
        if flag is None:
            raise _bad_filter("protected", values["protected"])
        filters.append(Filter("protected", "eq", flag))
    if "is_public" in values:
        text = values["is_public"].lower()
        if text not in ("none", *_BOOLS):
            raise _bad_filter("is_public", values["is_public"])
        if text != "none":
            filters.append(Filter("visibility", "eq" if _BOOLS[text] else "neq", "public"))
    for key, value in values.items():
        if key.startswith("property-") and len(key) > len("property-"):
            filters.append(Filter(key[len("property-"):], "eq", value))

    try:
        limit = int(values.get("limit", default_limit))
    except ValueError:
        raise bad_request("limit param must be an integer") from None
    if limit < 0:
        raise bad_request("limit param must be positive")
    limit = min(max_limit, limit)
    marker = values.get("marker")
    if marker is not None and not _is_uuid(marker):
        raise bad_request("Invalid marker format")
    sort_key = values.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        raise bad_request(f"Unsupported sort_key. Acceptable values: {', '.join(SORT_KEYS)}")
    sort_dir = values.get("sort_dir", "desc")
    if sort_dir not in SORT_DIRS:
        raise bad_request(f"Unsupported sort_dir. Acceptable values: {', '.join(SORT_DIRS)}")
    keys = [sort_key] if sort_key == "id" else [sort_key, "id"]  # stable pages
    sort = tuple(SortKey(key, sort_dir) for key in keys)  # type: ignore[arg-type]
    return ImageQuery(
        filters=tuple(filters), member_status="all", os_hidden=None, sort=sort,
        limit=limit, marker=marker or None,
    )
