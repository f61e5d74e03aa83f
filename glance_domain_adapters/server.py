"""``glance-domain serve``: a multi-process WSGI server (embedded gunicorn).

One master process prepares the database (migrating the implicit SQLite database on first start)
and forks ``[DEFAULT] workers`` worker processes (default: one per CPU). Each worker builds its
own application (database engine, stores, policy) after the fork and serves requests with
``worker_threads`` threads (gunicorn's ``gthread`` worker, in the variant of
:mod:`~glance_domain_adapters.server_worker`, which reads request heads in its event loop so
that slow clients hold no thread): small JSON requests are handled concurrently and a long
upload or download occupies one thread, not a whole process. Request
bodies are streamed to the store and downloads are streamed to the client; file-store downloads
use ``wsgi.file_wrapper`` (sendfile). SIGTERM stops accepting connections and lets running
requests finish (up to the graceful timeout) before exiting; SIGINT does the same. SIGHUP
re-reads the configuration files and gracefully replaces the workers.

The defaults listen on 127.0.0.1:9292 only; see ``bind_host`` for why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from glance_domain_adapters import bootstrap, config
from glance_domain_adapters.importing.plugins import load_import_plugins

LOG = logging.getLogger(__name__)

#: tmpfs for the workers' heartbeat files (used when present; else the default temp dir).
HEARTBEAT_DIR = "/dev/shm"
#: Seconds running requests get to finish after SIGTERM.
GRACEFUL_TIMEOUT = 30


def bind_address(conf: cfg.ConfigOpts) -> str:
    """``host:port`` for gunicorn (IPv6 hosts in brackets)."""
    host = str(conf.bind_host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{conf.bind_port}"


def worker_count(conf: cfg.ConfigOpts) -> int:
    """``[DEFAULT] workers``, or the number of CPUs usable by this process."""
    if conf.workers:
        return int(conf.workers)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_class(conf: cfg.ConfigOpts) -> type:
    """The worker class: gunicorn's ``gthread`` (threads in each process, chosen by
    bench/bench_server.py measurements) reading request heads in its event loop
    (:mod:`~glance_domain_adapters.server_worker`), with this configuration's head timeout and
    size limit. Imported here: the other commands do not need gunicorn."""
    from glance_domain_adapters.server_worker import MAX_HEAD_BYTES, HeadFirstWorker

    line = max(8190, conf.max_header_line)
    return type("GlanceDomainWorker", (HeadFirstWorker,), {
        "header_timeout": float(conf.client_header_timeout),
        "max_head_bytes": max(MAX_HEAD_BYTES, line + conf.max_header_line + 4),
        "__module__": __name__,
    })


def gunicorn_options(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """gunicorn settings derived from the configuration."""
    return {
        "bind": [bind_address(conf)],
        "workers": worker_count(conf),
        "worker_class": worker_class(conf),
        "threads": conf.worker_threads,
        "backlog": conf.backlog,
        # gthread workers heartbeat from their main loop, so long transfers in threads are fine.
        "timeout": max(conf.client_socket_timeout, 30) if conf.client_socket_timeout else 0,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": 5 if conf.http_keepalive else 0,
        "limit_request_field_size": conf.max_header_line,
        "limit_request_line": max(8190, conf.max_header_line),
        "preload_app": False,
        "proc_name": "glance-domain",
        # gunicorn >= 25 opens a control socket at a fixed per-user path: two servers would
        # clash, and nothing of ours uses it.
        "control_socket_disable": True,
        # The heartbeat touches this file on every turn of a worker's event loop (several per
        # request); on a disk filesystem that utime waits on the journal when the disk is busy
        # (a fifth of a busy worker's samples in one profile under heavy disk load; nothing
        # measurable at moderate load, see docs/benchmarks.md). gunicorn's docs recommend a tmpfs.
        "worker_tmp_dir": HEARTBEAT_DIR if os.path.isdir(HEARTBEAT_DIR) else None,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }


def _application_class() -> type:
    from gunicorn.app.base import BaseApplication

    class GlanceDomainApplication(BaseApplication):  # type: ignore[misc]
        """gunicorn application that builds our WSGI app in each worker."""

        def __init__(self, conf: cfg.ConfigOpts, options: dict[str, Any]) -> None:
            self.conf = conf
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def reload(self) -> None:
            # SIGHUP: re-read the configuration files, then gunicorn replaces the workers
            # (and rebinds if the address changed).
            if self.conf.reload_config_files():
                config.register_backend_opts(self.conf)
                self.options = gunicorn_options(self.conf)
            super().reload()

        def load(self) -> Any:
            # Runs in each worker after the fork: own engine, connections and policy cache.
            # ... and its own search for uploads abandoned by a dead process.
            return bootstrap.build_app(self.conf, migrate=False, recover_uploads=True)

    return GlanceDomainApplication


def serve(conf: cfg.ConfigOpts, *, preflight: Callable[[], None] | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; returns the exit status. ``preflight`` (e.g. the
    CLI's check that the port is free) runs once the configuration is known to be usable and
    before the database is touched."""
    from glance_domain_adapters import logs

    logs.setup(conf)  # oslo.log, from Glance's logging options; the workers inherit it
    config.property_protections(conf)  # a bad property protection file stops us at once
    config.stores_config(conf)  # ... and so does a bad store configuration
    load_import_plugins(conf)  # ... or an import plugin that cannot be used
    if preflight is not None:
        preflight()
    from glance_domain_adapters.db import migrate as migrations

    migrations.require_current(bootstrap.prepare_database(conf))  # an unmigrated one stops us
    from glance_domain_adapters.config.unused import warn_ignored_options

    warn_ignored_options(conf)  # one line naming the options of the files we do not use
    options = gunicorn_options(conf)
    LOG.info("glance-domain listening on http://%s with %d worker(s)", options["bind"][0],
             options["workers"])
    app_class = _application_class()
    app_class(conf, options).run()
    return 0
