"""Choose and build the notifier from the configuration."""

from __future__ import annotations

from oslo_config import cfg

from glance_domain.ports import Notifier
from glance_domain_adapters.notifier.filtering import FilteringNotifier
from glance_domain_adapters.notifier.logging import LoggingNotifier

NOTIFICATIONS_GROUP = "oslo_messaging_notifications"

notifier_opts: list[cfg.Opt] = [
    cfg.StrOpt("default_publisher_id", default="image.localhost",
               help="Publisher id of the notifications this service sends."),
    cfg.ListOpt("disabled_notifications", default=[],
                help="Notifications not to send: event types (image.update) or groups "
                "(image)."),
]


def _register_messaging_opts(conf: cfg.ConfigOpts) -> bool:
    """Register ``[oslo_messaging_notifications]``; False when no config file has that section
    (oslo.messaging is then not even imported: it is heavy) or oslo.messaging is missing."""
    if NOTIFICATIONS_GROUP not in set(conf.list_all_sections()):
        return False
    try:
        from oslo_messaging import opts as messaging_opts
    except ImportError:
        return False
    for group, opts in messaging_opts.list_opts():
        name = getattr(group, "name", group)
        if name == NOTIFICATIONS_GROUP:
            conf.register_opts(list(opts), group=NOTIFICATIONS_GROUP)
    return True


def make_notifier(conf: cfg.ConfigOpts) -> Notifier:
    """The configured notifier: oslo.messaging when a notification driver is set (other than
    ``noop``), else logging; wrapped to drop ``disabled_notifications``."""
    conf.register_opts(notifier_opts)
    inner: Notifier = LoggingNotifier(conf.default_publisher_id)
    if _register_messaging_opts(conf):
        drivers = [d for d in conf[NOTIFICATIONS_GROUP].driver if d and d != "noop"]
        if drivers:
            from glance_domain_adapters.notifier.messaging import MessagingNotifier

            inner = MessagingNotifier(conf, conf.default_publisher_id)
    if conf.disabled_notifications:
        return FilteringNotifier(inner, conf.disabled_notifications)
    return inner
