"""A notifier that writes each notification as one JSON log record (the default backend)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from glance_domain.context import RequestContext

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "SAMPLE": logging.DEBUG,
}


class LoggingNotifier:
    """Logs notifications to the ``glance_domain.notifications`` logger.

    The payload is serialised only when the record would actually be emitted, so a disabled
    logger costs almost nothing per request.
    """

    def __init__(self, publisher_id: str = "image.localhost",
                 logger: logging.Logger | None = None) -> None:
        self.publisher_id = publisher_id
        self.logger = logger or logging.getLogger("glance_domain.notifications")

    def notify(
        self,
        context: RequestContext,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        level: str = "INFO",
    ) -> None:
        """Log ``event_type`` with its payload at ``level``."""
        log_level = _LEVELS.get(level.upper(), logging.INFO)
        if not self.logger.isEnabledFor(log_level):
            return
        record = {
            "publisher_id": self.publisher_id,
            "event_type": event_type,
            "priority": level.upper(),
            "request_id": context.request_id,
            "user_id": context.user_id,
            "project_id": context.project_id,
            "payload": dict(payload),
        }
        self.logger.log(log_level, "%s", json.dumps(record, default=str, sort_keys=True))
