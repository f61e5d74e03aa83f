"""Drops notifications the operator disabled (``[DEFAULT] disabled_notifications``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from glance_domain.context import RequestContext
from glance_domain.ports import Notifier


class FilteringNotifier:
    """Wraps a notifier and skips disabled event types.

    An entry is either a full event type (``image.update``) or a group (``image`` disables every
    ``image.*`` event), as in Glance.
    """

    def __init__(self, inner: Notifier, disabled: Iterable[str]) -> None:
        self.inner = inner
        self.disabled = frozenset(d.strip() for d in disabled if d.strip())

    def is_enabled(self, event_type: str) -> bool:
        """False when ``event_type`` or its group (text before the first dot) is disabled."""
        if event_type in self.disabled:
            return False
        return event_type.split(".", 1)[0] not in self.disabled

    def notify(
        self,
        context: RequestContext,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        level: str = "INFO",
    ) -> None:
        if self.is_enabled(event_type):
            self.inner.notify(context, event_type, payload, level=level)
