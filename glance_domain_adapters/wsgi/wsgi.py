"""WSGI entry point for external servers (gunicorn, uwsgi, mod_wsgi).

    gunicorn 'glance_domain_adapters.wsgi.wsgi:create_app()' --bind 127.0.0.1:9292
    GLANCE_DOMAIN_CONFIG=/etc/glance/glance-api.conf uwsgi --http-socket 127.0.0.1:9292 \
        --module glance_domain_adapters.wsgi.wsgi:application

The configuration file comes from ``GLANCE_DOMAIN_CONFIG`` (several files separated by
``os.pathsep``) or from ``--config-file`` options on the server's command line. ``application``
is built lazily on the first request, so importing this module (e.g. in a server's master process
before forking workers) opens no database connection; a configuration it cannot run with (a
bad property protection file, an invalid option value) is then logged in one line and every
request answered 500. ``create_app()`` raises instead, so a server loading it refuses to start.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from oslo_config import cfg

from glance_domain_adapters import bootstrap, config

LOG = logging.getLogger(__name__)

CONFIG_ENV = "GLANCE_DOMAIN_CONFIG"


def config_files_from_environment(argv: Sequence[str] | None = None) -> list[str]:
    """Config files from ``GLANCE_DOMAIN_CONFIG`` or ``--config-file`` in ``argv``."""
    env = os.environ.get(CONFIG_ENV, "")
    files = [p for p in env.split(os.pathsep) if p]
    files.extend(config.config_files_from_argv(sys.argv[1:] if argv is None else argv))
    return files


def create_app(config_files: Sequence[str] | None = None) -> Any:
    """Build the WSGI application (config files: given, else from the environment)."""
    files = list(config_files) if config_files is not None else config_files_from_environment()
    conf = bootstrap.load_config([], files)
    from glance_domain_adapters import logs

    logs.setup(conf)  # oslo.log from the configuration, once per process
    app = bootstrap.build_app(conf, recover_uploads=True)
    from glance_domain_adapters.config.unused import warn_ignored_options

    warn_ignored_options(conf)  # one line naming the options of the files we do not use
    return app


def _misconfigured(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The answer of a process whose configuration could not be used (see the log)."""
    body = b"500 Internal Server Error\n\nThe server is not configured correctly.\n\n   "
    start_response("500 Internal Server Error", [
        ("Content-Type", "text/plain; charset=UTF-8"), ("Content-Length", str(len(body)))])
    return [body]


class _LazyApplication:
    """A WSGI callable that builds the real application on first use (once per process)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    try:
                        self._app = create_app()
                    except cfg.Error as exc:
                        # a configuration the service cannot run with (e.g. a bad property
                        # protection file): said once, in one line; every request then gets a
                        # plain 500 that tells the client nothing of the configuration
                        LOG.error("glance-domain cannot start: %s", exc)
                        self._app = _misconfigured
        return self._app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self._get()(environ, start_response)  # type: ignore[no-any-return]


application = _LazyApplication()
