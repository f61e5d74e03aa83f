"""Glance's timestamp format, shared by every view and notification payload."""

from __future__ import annotations

import datetime as dt


def isotime(value: dt.datetime | None) -> str | None:
    """``2026-01-01T00:00:00Z``: UTC, whole seconds; naive values are taken as UTC.

    None stays None (an unset timestamp is shown as null).
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        offset = value.utcoffset()
        if offset:
            value = (value - offset).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
