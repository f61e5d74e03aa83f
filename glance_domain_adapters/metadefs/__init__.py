"""The standard metadata definitions shipped with glance-domain.

``STANDARD_DIR`` holds one namespace per ``*.json`` file in Glance's metadefs format: the
image properties Nova's scheduler and libvirt driver, and Horizon's forms, read (compute,
libvirt, hypervisor, CPU pinning, watchdog, storage). They were written for this project from
Nova's documented image properties; ``glance-domain db upgrade`` loads them into a new
database (``--no-metadefs`` not to), ``glance-domain db load-metadefs`` loads any folder of
such files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STANDARD_DIR = Path(__file__).with_name("standard")


def standard_service(conf: Any) -> Any:
    """A MetadefService over the configured database, acting as the local admin, with
    Glance's default rules and no notifications: what loading the standard definitions needs,
    without building the stores."""
    from glance_domain.clock import SystemClock
    from glance_domain.context import RequestContext
    from glance_domain.metadefs.service import MetadefService
    from glance_domain.notifications import NullNotifier
    from glance_domain.policy import DefaultPolicy
    from glance_domain_adapters import config
    from glance_domain_adapters.db.engine import make_engine
    from glance_domain_adapters.db.metadefs import SqlMetadefRepository

    context = RequestContext(user_id="admin", project_id=str(conf.default_project_id or "admin"),
                             roles=("admin", "member", "reader"), is_admin=True)
    return MetadefService(
        context=context, repository=SqlMetadefRepository(make_engine(config.database_url(conf))),
        policy=DefaultPolicy(), notifier=NullNotifier(), clock=SystemClock(),
    )
