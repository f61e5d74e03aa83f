"""``GET /v2/images`` query parameters -> :class:`glance_domain.query.ImageQuery`, as Glance.

Glance's rules, reproduced: ``limit`` must be a non-negative integer and is clamped to
``api_limit_max``; ``sort_key``/``sort_dir`` pairs (one direction applies to every key) or
``sort=key:dir,...`` (not both); sort keys limited to Glance's eight; ``created_at`` then ``id``
are appended as tie-breakers with the default direction; ``name``, ``id``, ``status``,
``container_format`` and ``disk_format`` accept ``in:`` lists (double-quoted items may contain
commas); ``created_at``/``updated_at`` accept ``gt:``/``gte:``/``eq:``/``neq:``/``lt:``/``lte:``
with ISO 8601 times; ``<attr>_min``/``<attr>_max`` are integer ranges and ``size``,
``virtual_size``, ``min_disk``, ``min_ram`` integers (non-negative: 400 otherwise, where
Glance lists nothing or everything); repeated ``tag`` params
must all match; anything else filters on a core attribute or an extra property by equality.
Glance takes only the first ``limit``, ``marker`` and ``member_status``; a repetition stays
among the filters, i.e. filters on an extra property of that name (``?limit=1&limit=2`` lists
the images whose property ``limit`` is ``2``: usually none).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from glance_domain.query import Filter, ImageQuery, SortKey
from glance_domain_adapters.wsgi.errors import bad_request

AVAILABLE_SORT_KEYS = (
    "name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
)
_SORT_DIRS = ("asc", "desc")
_VISIBILITIES = ("community", "public", "private", "shared", "all")
_MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")
_LIST_OPERATOR_FIELDS = frozenset({"name", "id", "status", "container_format", "disk_format"})
_TIME_FIELDS = frozenset({"created_at", "updated_at"})
_TIME_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "neq", "eq"})
_INT_FIELDS = frozenset({"size", "virtual_size", "min_disk", "min_ram"})
_STRING_FIELDS = frozenset({"owner", "checksum", "os_hash_algo", "os_hash_value"})
_RANGE_FIELDS = _INT_FIELDS | _STRING_FIELDS | _LIST_OPERATOR_FIELDS | _TIME_FIELDS
_IGNORED = frozenset({"deleted"})
_YEAR_MONTH = re.compile(r"\d{4}(-\d{2})?")
_QUOTED_ITEMS = re.compile(
    r'"([^"\\]*(?:\\.[^"\\]*)*)",?'  # a double-quoted item (backslash escapes kept)
    r"|([^,]+),?"  # or an unquoted item
    r"|,"  # or an empty item
)


def _parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time as a naive UTC datetime (raises ValueError)."""
    text = value.strip()
    if not text or not text[0].isdigit():
        raise ValueError(value)
    if _YEAR_MONTH.fullmatch(text):  # ISO 8601 reduced precision: "2000", "2000-01"
        return dt.datetime(int(text[:4]), int(text[5:7] or 1), 1)
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def split_filter_op(expression: str) -> tuple[str, str]:
    """``gt:2020-01-01`` -> (gt, 2020-01-01); a bare value (even a time with colons) -> eq."""
    left, sep, right = expression.partition(":")
    if not sep:
        return "eq", left
    try:
        _parse_time(expression)
    except ValueError:
        return left, right
    return "eq", expression


def _validate_quotes(value: str) -> None:
    open_quote = True
    for i, char in enumerate(value):
        if char != '"':
            continue
        if i and value[i - 1] == "\\":
            continue
        if open_quote:
            if i and value[i - 1] != ",":
                raise bad_request(
                    f"Invalid filter value {value}. There is no comma before opening "
                    "quotation mark."
                )
        elif i + 1 != len(value) and value[i + 1] != ",":
            raise bad_request(
                f"Invalid filter value {value}. There is no comma after closing quotation mark."
            )
        open_quote = not open_quote
    if not open_quote:
        raise bad_request(f"Invalid filter value {value}. The quote is not closed.")


def split_in_values(value: str) -> tuple[str, ...]:
    """The items of an ``in:`` list (``a,"b,c",d`` -> a, b,c, d)."""
    _validate_quotes(value)
    return tuple(m.group(1) or m.group(2) or "" for m in _QUOTED_ITEMS.finditer(value))


def _limit(value: str, max_limit: int) -> int:
    try:
        limit = int(value)
    except ValueError:
        raise bad_request("limit param must be an integer") from None
    if limit < 0:
        raise bad_request("limit param must be positive")
    return min(max_limit, limit)


def _sort_key(key: str) -> str:
    if key not in AVAILABLE_SORT_KEYS:
        raise bad_request(
            f"Invalid sort key: {key}. It must be one of the following: "
            + ", ".join(AVAILABLE_SORT_KEYS) + "."
        )
    return key


def _sort_dir(direction: str) -> str:
    if direction not in _SORT_DIRS:
        raise bad_request(f"Invalid sort direction: {direction}")
    return direction


def _sorting(
    sort: str | None, keys_in: Sequence[str], dirs_in: Sequence[str]
) -> tuple[SortKey, ...]:
    keys: list[str] = []
    dirs: list[str] = []
    if sort is not None:
        if keys_in or dirs_in:
            raise bad_request("Old and new sorting syntax cannot be combined")
        for item in sort.strip().split(","):
            key, _sep, direction = item.partition(":")
            keys.append(_sort_key(key.strip()))
            dirs.append(_sort_dir(direction.strip() if direction else "desc"))
    else:
        keys = [_sort_key(k.strip()) for k in keys_in]
        dirs = [_sort_dir(d.strip()) for d in dirs_in]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise bad_request("Number of sort dirs does not match the number of sort keys")
    if not keys:
        keys = ["created_at"]
    if not dirs:
        dirs = ["desc"]
    default_dir = "desc"
    if len(dirs) == 1:
        default_dir = dirs[0]
        dirs = dirs * len(keys)
    for tie_breaker in ("created_at", "id"):
        if tie_breaker not in keys:
            keys.append(tie_breaker)
            dirs.append(default_dir)
    return tuple(SortKey(k, d) for k, d in zip(keys, dirs, strict=False))  # type: ignore[arg-type]


def _filter(key: str, value: str) -> Filter | None:
    """One filter parameter as a domain Filter (None when it filters nothing)."""
    if key in _IGNORED:
        return None
    if key.endswith(("_min", "_max")) and key[:-4] in _RANGE_FIELDS:
        try:
            bound = int(value)
        except ValueError:
            raise bad_request("Unable to filter on a range with a non-numeric value.") from None
        if bound < 0 or not _is_count(value):
            raise bad_request(_not_a_count(key, value))
        return Filter(key[:-4], "gte" if key.endswith("_min") else "lte", bound)
    if key in _TIME_FIELDS:
        op, text = split_filter_op(value)
        try:
            when = _parse_time(text)
        except ValueError:
            raise bad_request(
                f'Bad "{key}" query filter format. Use ISO 8601 DateTime notation.'
            ) from None
        if op not in _TIME_OPERATORS:
            raise bad_request("Unable to filter on a unknown operator.")
        return Filter(key, op, when)  # type: ignore[arg-type]
    if key in _LIST_OPERATOR_FIELDS:
        op, text = split_filter_op(value)
        if op == "in":
            return Filter(key, "in", split_in_values(text))
        if op == "eq":
            return Filter(key, "eq", text)
        raise bad_request(f"Unable to filter by unknown operator '{op}'.")
    if key in _INT_FIELDS:
        # Glance answers an empty list for min_ram=abc; the API reference documents these as
        # integers, so a value that is not one is the caller's error (issue 12)
        if not _is_count(value):
            raise bad_request(_not_a_count(key, value))
        return Filter(key, "eq", int(value))
    return Filter(key, "eq", value)


def _is_count(value: str) -> bool:
    """Whether ``value`` spells a non-negative integer in ASCII digits (``int()`` would also
    take `` 5``, ``+5`` and ``1_0``)."""
    return value.isascii() and value.isdigit()


def _not_a_count(key: str, value: str) -> str:
    return f"Invalid value '{value}' for '{key}' filter: a non-negative integer is required."


def parse_image_query(
    params: Sequence[tuple[str, str]], *, default_limit: int, max_limit: int
) -> ImageQuery:
    """Build the ImageQuery of ``GET /v2/images`` (raises webob 400 errors like Glance)."""
    limit: str | None = None
    marker: str | None = None
    member_status: str | None = None
    sort: str | None = None
    visibility: str | None = None
    visibility_also: str | None = None
    os_hidden = "false"
    protected: str | None = None
    sort_keys: list[str] = []
    sort_dirs: list[str] = []
    tags: list[str] = []
    filters: list[tuple[str, str]] = []
    for key, value in params:
        if key == "limit" and limit is None:
            limit = value
        elif key == "marker" and marker is None:
            marker = value
        elif key == "member_status" and member_status is None:
            member_status = value
        elif key == "tag":
            tags.append(value.strip())
        elif key == "sort":
            if sort is None:
                sort = value
        elif key == "sort_key":
            sort_keys.append(value)
        elif key == "sort_dir":
            sort_dirs.append(value)
        elif key == "visibility":
            if visibility is None:
                visibility = value
            else:  # Glance: later values stay among its filters, ANDed with the first
                visibility_also = value
        elif key == "os_hidden":
            os_hidden = value
        elif key == "protected":
            protected = value
        else:
            filters.append((key, value))

    # Glance validates the last value given, scopes the listing by the first and keeps the
    # others among its filters
    last_visibility = visibility_also if visibility_also is not None else visibility
    if last_visibility and last_visibility not in _VISIBILITIES:
        raise bad_request(f"Invalid visibility value: {last_visibility}")
    for key, value in filters:
        if key == "changes-since" and value:
            raise bad_request('The "changes-since" filter is no longer available on v2.')
    if member_status is None:
        member_status = "accepted"
    elif member_status not in _MEMBER_STATUSES:
        raise bad_request(f"Invalid status: {member_status}")
    page_size = min(max_limit, default_limit) if limit is None else _limit(limit, max_limit)
    sort_spec = _sorting(sort, sort_keys, sort_dirs)

    hidden = os_hidden.lower()
    if hidden not in ("true", "false"):
        raise bad_request(
            f"Invalid value '{hidden}' for 'os_hidden' filter. "
            "Valid values are 'true' or 'false'."
        )
    domain_filters: list[Filter] = []
    if visibility is not None and visibility not in _VISIBILITIES:
        # '' (or an unknown first value): Glance compares the column with it, nothing matches
        domain_filters.append(Filter("visibility", "eq", visibility))
        visibility = None
    if visibility_also is not None:
        domain_filters.append(Filter("visibility", "eq", visibility_also))
    if protected is not None:
        if protected not in ("true", "false"):
            raise bad_request(
                f"Invalid value '{protected}' for 'protected' filter. "
                "Valid values are 'true' or 'false'."
            )
        domain_filters.append(Filter("protected", "eq", protected == "true"))
    # a repeated filter parameter counts with its last value, as in Glance
    tags.extend(value for key, value in filters if key == "tags")
    for key, value in dict(filters).items():
        if key in ("tags", "changes-since"):
            continue
        flt = _filter(key, value)
        if flt is not None:
            domain_filters.append(flt)

    kwargs: dict[str, Any] = {}
    if marker is not None:
        kwargs["marker"] = marker
    return ImageQuery(
        filters=tuple(domain_filters),
        tags=tuple(tags),
        visibility=visibility or None,
        member_status=member_status,
        os_hidden=hidden == "true",
        sort=sort_spec,
        limit=page_size,
        **kwargs,
    )


def collection_links(
    params: Sequence[tuple[str, str]], next_marker: str | None
) -> dict[str, str]:
    """``first`` and (when a page was full) ``next`` links, built as Glance builds them.

    Glance collapses repeated parameters to their last value and keeps the first position of
    each name (``dict()`` of a multidict), drops ``marker`` and re-encodes with ``urlencode``.
    """
    flat: dict[str, str] = {}
    for key, value in params:
        flat[key] = value
    flat.pop("marker", None)
    links = {"first": "/v2/images"}
    if flat:
        links["first"] = "/v2/images?" + urlencode(flat)
    if next_marker is not None:
        flat["marker"] = next_marker
        links["next"] = "/v2/images?" + urlencode(flat)
    return links
