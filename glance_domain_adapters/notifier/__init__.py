"""Notifier adapters: the domain's ``Notifier`` port over logging (default) or oslo.messaging.

:func:`make_notifier` picks the backend from the configuration: oslo.messaging when
``[oslo_messaging_notifications] driver`` is set (and oslo.messaging is installed), otherwise the
logging notifier. ``[DEFAULT] disabled_notifications`` filters either one.
"""

from __future__ import annotations

from glance_domain_adapters.notifier.factory import make_notifier, notifier_opts
from glance_domain_adapters.notifier.filtering import FilteringNotifier
from glance_domain_adapters.notifier.logging import LoggingNotifier

__all__ = ["FilteringNotifier", "LoggingNotifier", "make_notifier", "notifier_opts"]
