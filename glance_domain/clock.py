"""Clocks: the real UTC clock (tests may pass their own ``Clock``)."""

from __future__ import annotations

import datetime as dt


class SystemClock:
    """The system's current time, naive UTC, with microseconds (Glance keeps them, so images
    created within one second still sort by creation; responses print whole seconds)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
