"""A notifier over oslo.messaging (optional: needs the oslo.messaging package).

Sends Glance-compatible notifications (publisher ``image.localhost``, the event types and
payloads the domain produces) with the drivers and transport configured in
``[oslo_messaging_notifications]`` (e.g. ``driver = messagingv2`` and a ``transport_url`` such as
``rabbit://guest:guest@127.0.0.1:5672/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_config import cfg

from glance_domain.context import RequestContext


class MessagingNotifier:
    """Publishes notifications with an ``oslo_messaging.Notifier``."""

    def __init__(self, conf: cfg.ConfigOpts, publisher_id: str = "image.localhost") -> None:
        import oslo_messaging

        self._transport = oslo_messaging.get_notification_transport(conf)
        self._notifier = oslo_messaging.Notifier(self._transport, publisher_id=publisher_id)

    def notify(
        self,
        context: RequestContext,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        level: str = "INFO",
    ) -> None:
        """Send ``payload`` as ``event_type`` at ``level`` (info, warn, error...)."""
        ctxt = {
            "request_id": context.request_id,
            "user_id": context.user_id,
            "project_id": context.project_id,
            "roles": list(context.roles),
            "is_admin": context.is_admin,
        }
        method = getattr(self._notifier, level.lower(), self._notifier.info)
        method(ctxt, event_type, dict(payload))

    def close(self) -> None:
        """Release the transport's connections."""
        self._transport.cleanup()
