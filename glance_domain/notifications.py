"""Notifier port implementations that need no messaging library."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import attrs

from glance_domain.context import RequestContext


class NullNotifier:
    """Drops every notification (notifications disabled)."""

    def notify(
        self, context: RequestContext, event_type: str, payload: Mapping[str, Any], *,
        level: str = "INFO",
    ) -> None:
        return None


@attrs.frozen
class Notification:
    """One recorded notification."""

    event_type: str
    payload: Any
    level: str
    request_id: str


class RecordingNotifier:
    """Keeps every notification in ``events`` (for tests and for embedding programs)."""

    def __init__(self) -> None:
        self.events: list[Notification] = []
        self._lock = threading.Lock()

    def notify(
        self, context: RequestContext, event_type: str, payload: Mapping[str, Any], *,
        level: str = "INFO",
    ) -> None:
        with self._lock:
            self.events.append(Notification(event_type, payload, level, context.request_id))

    def event_types(self) -> list[str]:
        """The event types received so far, in order."""
        with self._lock:
            return [e.event_type for e in self.events]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()
