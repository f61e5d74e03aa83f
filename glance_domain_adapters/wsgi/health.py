"""``/healthcheck``: oslo.middleware's health check, as Glance mounts it, plus a database check.

Glance serves ``/healthcheck`` with oslo.middleware's ``Healthcheck`` application and the
``disable_by_file`` backend reading ``/etc/glance/healthcheck_disable`` (its paste file's
settings); the ``[healthcheck]`` options of the configuration file change both. We do the
same (``backends`` and ``disable_by_file_path`` default to Glance's values when the file does
not set them) and add two backends of our own: the database must answer ``SELECT 1``, and
the data directories of the local file stores must exist, so a load balancer stops sending
requests to an API whose database is down (503 ``database unavailable``) or whose image
volume is gone (503 ``store unavailable``) instead of seeing ``OK``.

The result formats (text, JSON, HTML with ``detailed``), ``HEAD`` (204/503),
``allowed_source_ranges`` and ``ignore_proxied_requests`` are oslo.middleware's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from oslo_middleware.healthcheck import Healthcheck
from oslo_middleware.healthcheck import opts as health_opts
from oslo_middleware.healthcheck.pluginbase import HealthcheckBaseExtension, HealthcheckResult

WsgiApp = Callable[..., Any]

#: What Glance's api-paste.ini gives its health check.
GLANCE_BACKENDS = ["disable_by_file"]
GLANCE_DISABLE_FILE = "/etc/glance/healthcheck_disable"


class DatabaseCheck(HealthcheckBaseExtension):
    """Healthy when the database answers ``SELECT 1`` (a connection from the pool)."""

    def __init__(self, oslo_conf: cfg.ConfigOpts, conf: dict[str, Any], engine: Any) -> None:
        super().__init__(oslo_conf, conf)
        self.engine = engine

    def healthcheck(self, server_port: int) -> HealthcheckResult:
        from sqlalchemy import text

        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means: do not send requests here
            return HealthcheckResult(available=False, reason="database unavailable",
                                     details=f"{type(exc).__name__}: {exc}"[:500])
        # no reason of its own when healthy: the answer stays Glance's plain "OK"
        return HealthcheckResult(available=True, reason="", details="database OK")


class LocalStoreCheck(HealthcheckBaseExtension):
    """Healthy when every data directory of the local (``file``) store backends exists:
    an unmounted or removed image volume fails the check. Remote stores are not probed (a
    request to S3 on every probe would cost more than it tells)."""

    def __init__(self, oslo_conf: cfg.ConfigOpts, conf: dict[str, Any], stores: Any) -> None:
        super().__init__(oslo_conf, conf)
        self.directories = [
            (str(getattr(store, "backend", "?")), str(datadir.path))
            for store in stores for datadir in getattr(store, "datadirs", ())]

    def healthcheck(self, server_port: int) -> HealthcheckResult:
        import os

        missing = [f"{backend}: {path}" for backend, path in self.directories
                   if not os.path.isdir(path)]
        if missing:
            return HealthcheckResult(available=False, reason="store unavailable",
                                     details="missing data directory " + ", ".join(missing))
        return HealthcheckResult(available=True, reason="", details="stores OK")


def make_healthcheck(conf: cfg.ConfigOpts, app: WsgiApp, engine: Any = None,
                     stores: Any = None) -> WsgiApp:
    """oslo.middleware's ``Healthcheck`` over ``app`` with Glance's defaults, plus
    :class:`DatabaseCheck` on ``engine`` (none: no database check) and
    :class:`LocalStoreCheck` on ``stores`` (glance_store_plugins stores; none: no check)."""
    conf.register_opts(health_opts.HEALTHCHECK_OPTS, group="healthcheck")
    conf.register_opts(health_opts.DISABLE_BY_FILE_OPTS, group="healthcheck")
    if not conf.healthcheck.backends:
        conf.set_default("backends", GLANCE_BACKENDS, group="healthcheck")
    if not conf.healthcheck.disable_by_file_path:
        conf.set_default("disable_by_file_path", GLANCE_DISABLE_FILE, group="healthcheck")
    health = Healthcheck(app, conf)
    if engine is not None:
        from stevedore.extension import Extension

        check = DatabaseCheck(conf, {}, engine)
        # in code rather than through the entry point namespace: the engine is ours
        health._backends.extensions.append(
            Extension("database", None, DatabaseCheck, check))  # type: ignore[arg-type]
    if stores is not None:
        from stevedore.extension import Extension

        local = LocalStoreCheck(conf, {}, stores)
        health._backends.extensions.append(
            Extension("stores", None, LocalStoreCheck, local))  # type: ignore[arg-type]
    return health
