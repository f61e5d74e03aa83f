"""Logging with oslo.log and Glance's logging options (``debug``, ``log_file``, ``log_dir``,
``use_stderr``, ``log_config_append``, ``default_log_levels``, the format strings...).

:func:`register` adds oslo.log's options to a ``ConfigOpts`` (every configuration we build
has them, so a glance-api.conf setting them parses); :func:`setup` configures the process's
logging from them, once, where a process starts serving (``glance-domain serve`` before it
forks its workers, the WSGI entry point for external servers). Lines logged while a request
runs carry its request id (see :mod:`glance_domain_adapters.wsgi.operations`).
"""

from __future__ import annotations

import threading

from oslo_config import cfg
from oslo_log import log as oslo_log

DOMAIN = "glance-domain"

_done = threading.Lock()
_configured = False


#: Libraries quieter than INFO by default, besides oslo.log's own list (``default_log_levels``
#: in the file replaces the whole list, as in Glance).
QUIET = ("alembic=WARN", "gunicorn=WARN")


def register(conf: cfg.ConfigOpts) -> None:
    """Register oslo.log's options on ``conf`` (before it parses anything)."""
    oslo_log.register_options(conf)
    levels = list(oslo_log.get_default_log_levels())
    conf.set_default("default_log_levels",
                     levels + [q for q in QUIET if q not in levels])


def setup(conf: cfg.ConfigOpts) -> None:
    """Configure the process's logging from ``conf`` (the first call only: later
    configurations of the same process, e.g. a second application, keep it)."""
    global _configured
    with _done:
        if _configured:
            return
        oslo_log.setup(conf, DOMAIN)
        _configured = True
