"""Clocks: the real UTC clock (tests may pass their own ``Clock``)."""

from __future__ import annotations

import datetime as dt


class SystemClock:
    """The system's current time, in UTC, with microseconds dropped (as Glance stores them)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
