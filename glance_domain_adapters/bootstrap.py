"""Composition root: configuration -> gateway -> WSGI application.

The only module that knows every adapter. Each function does one step, so an embedding program
or a test can stop at any level::

    conf = load_config(config_files=["/etc/glance/glance-api.conf"])
    gateway = build_gateway(conf)          # domain + SQL + stores + policy + notifier
    app = build_app(conf, gateway=gateway) # WSGI, behind keystonemiddleware if flavor=keystone
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from oslo_config import cfg

from glance_domain.context import RequestContext
from glance_domain.ports import PolicyEnforcer, StoreRegistry
from glance_domain_adapters import config
from glance_domain_adapters.formats import OsloFormatInspector
from glance_domain_adapters.notifier import make_notifier
from glance_domain_adapters.policy.enforcer import OsloPolicyEnforcer, make_policy
from glance_domain_adapters.policy.protections import register_property_rules

LOG = logging.getLogger(__name__)

WsgiApp = Callable[..., Any]


def load_config(
    args: Sequence[str] | None = None, config_files: Sequence[str] | None = None
) -> cfg.ConfigOpts:
    """A new ``ConfigOpts`` with our options, parsed from ``args`` and ``config_files``.

    ``args`` are command-line style (``["--config-file", "glance-api.conf"]``); ``config_files``
    are read as if given with ``--config-file``. No global state: every call returns a new object.
    """
    conf = config.new_conf()
    files = list(config_files or [])
    for path in files:
        if not os.path.isfile(path):
            raise cfg.ConfigFilesNotFoundError([path])
    return config.parse(conf, args, files)


def prepare_database(conf: cfg.ConfigOpts) -> str:
    """The database URL; the implicit SQLite database is created and migrated on first use.

    An explicitly configured database is left alone (run ``glance-domain db sync``), as with
    Glance's ``glance-manage db sync``.
    """
    url = config.database_url(conf)
    if config.uses_default_database(conf):
        from glance_domain_adapters.db import migrate

        folder = config.data_dir(conf)
        os.makedirs(folder, exist_ok=True)
        # Several processes may start at once (workers of an external WSGI server building
        # the app lazily): one migrates, the others wait and then find nothing to do.
        with open(os.path.join(folder, ".migrate.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                migrate.upgrade(url)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    return url


def build_repository(conf: cfg.ConfigOpts, *, migrate: bool = True) -> Any:
    """The SQL image repository (``migrate``: prepare the default SQLite database first)."""
    from glance_domain_adapters.db.engine import make_engine
    from glance_domain_adapters.db.repository import SqlImageRepository

    url = prepare_database(conf) if migrate else config.database_url(conf)
    return SqlImageRepository(make_engine(url, **engine_options(conf, url)),
                              lease_seconds=conf.upload_lease_timeout)


def engine_options(conf: cfg.ConfigOpts, url: str) -> dict[str, Any]:
    """SQLAlchemy pool settings from oslo.db's ``[database]`` options the file sets (never
    for SQLite, whose connections are not pooled over the network)."""
    if url.startswith("sqlite"):
        return {}
    db = conf.database
    pairs = (("pool_size", db.max_pool_size), ("max_overflow", db.max_overflow),
             ("pool_timeout", db.pool_timeout), ("pool_recycle", db.connection_recycle_time))
    return {name: value for name, value in pairs if value is not None}


def _driver_options(driver: str) -> set[str] | None:
    """Option names the store driver ``driver`` declares (None if it cannot be loaded; the
    registry then reports the real error)."""
    from glance_store_plugins import registry as plugin_registry
    from glance_store_plugins.base import COMMON_OPTIONS

    try:
        return set(plugin_registry.driver_options(driver)) | set(COMMON_OPTIONS)
    except Exception:
        return None


def store_backends(conf: cfg.ConfigOpts) -> tuple[dict[str, tuple[str, dict[str, Any]]], str]:
    """``({backend: (driver, options)}, default)`` for ``glance_store_plugins.registry``.

    Options are passed under Glance's names; those a driver does not declare are dropped with a
    debug log line (Glance's option set is larger than any one driver's).
    """
    stores = config.stores_config(conf)
    backends: dict[str, tuple[str, dict[str, Any]]] = {}
    for backend in stores.backends:
        options = dict(backend.options)
        if backend.description:
            options["store_description"] = backend.description
        if backend.driver == "http" and not options.get("http_store_allowed_hosts"):
            # hosts the operator allows for web-download and http locations may be reached
            # by the http store too, loopback or private (as in Glance)
            options["http_store_allowed_hosts"] = list(conf.import_filtering_opts.allowed_hosts)
        known = _driver_options(backend.driver)
        if known is not None:
            dropped = sorted(set(options) - known)
            if dropped:
                LOG.debug("store backend %s (%s): options not used by the driver: %s",
                          backend.name, backend.driver, ", ".join(dropped))
            options = {k: v for k, v in options.items() if k in known}
        backends[backend.name] = (backend.driver, options)
    return backends, stores.default


def build_stores(conf: cfg.ConfigOpts) -> StoreRegistry:
    """The domain's store registry over the configured ``glance_store_plugins`` backends."""
    from glance_domain_adapters.stores import PluginStoreRegistry
    from glance_store_plugins import registry as plugin_registry

    backends, default = store_backends(conf)
    registry = plugin_registry.build_registry(
        backends, default=default, hashing_algorithm=conf.hashing_algorithm
    )
    return PluginStoreRegistry(registry)


def build_policy(conf: cfg.ConfigOpts) -> OsloPolicyEnforcer:
    """The oslo.policy enforcer adapter (defaults + the operator's policy file)."""
    return make_policy(conf)


def build_image_cache(conf: cfg.ConfigOpts) -> Any:
    """Glance's image cache in ``image_cache_dir`` (None when unset). A caching ``[paste_deploy]
    flavor`` without ``image_cache_dir`` is refused, as Glance fails to load then."""
    if not conf.image_cache_dir:
        if config.caching_flavor(conf):
            raise ValueError(f"[paste_deploy] flavor = {conf.paste_deploy.flavor} caches image "
                             "data, but [DEFAULT] image_cache_dir is not set")
        return None
    from glance_domain_adapters.image_cache import FileImageCache

    return FileImageCache(
        os.path.expanduser(conf.image_cache_dir),
        max_size=conf.image_cache_max_size,
        stall_time=conf.image_cache_stall_time,
        driver=conf.image_cache_driver.lower(),
        db_name=conf.image_cache_sqlite_db,
        node_url=conf.worker_self_reference_url,
    )


def build_gateway(
    conf: cfg.ConfigOpts,
    *,
    migrate: bool = True,
    policy: PolicyEnforcer | None = None,
    repository: Any = None,
    stores: StoreRegistry | None = None,
) -> Any:
    """The domain gateway wired from ``conf``; any dependency may be handed in instead.

    With ``property_protection_file`` the rules are read here (``PropertyProtectionError`` if
    they cannot be used) and, in the policies format, defined on an oslo.policy ``policy``; a
    handed-in policy of another kind must know the ``<section>:<operation>`` rules itself."""
    from glance_domain.gateway import Gateway
    from glance_domain.importing import ThreadExecutor
    from glance_domain_adapters.importing import FileStagingArea, HttpFetcher, ImportFilter
    from glance_domain_adapters.importing.plugins import load_import_plugins
    from glance_domain_adapters.importing.remote_glance import RemoteGlance
    from glance_domain_adapters.signatures import CursiveSignatures

    filtering = conf.import_filtering_opts
    fetcher = HttpFetcher(
        uri_filter=ImportFilter(
            allowed_schemes=tuple(filtering.allowed_schemes),
            disallowed_schemes=tuple(filtering.disallowed_schemes),
            allowed_hosts=tuple(filtering.allowed_hosts),
            disallowed_hosts=tuple(filtering.disallowed_hosts),
            allowed_ports=tuple(filtering.allowed_ports),
            disallowed_ports=tuple(filtering.disallowed_ports),
        ),
        allowed_networks=tuple(filtering.allowed_networks),
    )
    protections = config.property_protections(conf)  # a bad file fails before anything opens
    if policy is None:
        policy = build_policy(conf)
    if protections is not None and isinstance(policy, OsloPolicyEnforcer):
        register_property_rules(policy.enforcer, protections)
    data = config.data_dir(conf)
    if repository is None:
        repository = build_repository(conf, migrate=migrate)
    return Gateway(
        tasks=_task_repository(repository),
        staging=FileStagingArea(os.path.join(data, "staging")),
        executor=ThreadExecutor(conf.wsgi.task_pool_threads or conf.task.task_executor_threads),
        fetcher=fetcher,
        format_inspector=OsloFormatInspector(
            require_match=conf.image_format.require_image_format_match,
            gpt_safety_checks_nonfatal=conf.image_format.gpt_safety_checks_nonfatal,
        ),
        repository=repository,
        metadefs=_metadef_repository(repository),
        stores=stores if stores is not None else build_stores(conf),
        policy=policy,
        notifier=make_notifier(conf),
        settings=config.domain_settings(conf),
        property_protections=protections,
        cache=build_image_cache(conf),
        serve_from_cache=config.caching_flavor(conf),
        import_plugins=load_import_plugins(conf),
        signatures=CursiveSignatures(conf),
        remote_images=RemoteGlance(),
    )


def _task_repository(repository: Any) -> Any:
    """Import tasks in the image repository's SQL database, shared by every host using it
    (None: in memory, for a handed-in repository without an engine)."""
    engine = getattr(repository, "engine", None)
    if engine is None:
        return None
    from glance_domain_adapters.db.tasks import SqlTaskRepository

    return SqlTaskRepository(engine)


def _metadef_repository(repository: Any) -> Any:
    """Metadata definitions in the image repository's SQL database (None: in memory)."""
    engine = getattr(repository, "engine", None)
    if engine is None:
        return None
    from glance_domain_adapters.db.metadefs import SqlMetadefRepository

    return SqlMetadefRepository(engine)


_MiB = 1 << 20


def store_properties(backend: config.BackendConfig) -> dict[str, Any]:
    """The ``properties`` Glance shows for a backend in ``/v2/info/stores/detail``."""
    options = backend.options
    if backend.driver == "file":
        datadirs = options.get("filesystem_store_datadirs") or []
        return {
            "data_dir": options.get("filesystem_store_datadir") or (
                datadirs[0].rsplit(":", 1)[0] if datadirs else None),
            "chunk_size": options.get("filesystem_store_chunk_size", 65536),
            "thin_provisioning": bool(options.get("filesystem_thin_provisioning", False)),
        }
    if backend.driver == "s3":  # glance_store reports the sizes in bytes
        return {
            "s3_store_large_object_size":
                options.get("s3_store_large_object_size", 100) * _MiB,
            "s3_store_large_object_chunk_size":
                options.get("s3_store_large_object_chunk_size", 10) * _MiB,
            "s3_store_thread_pools": options.get("s3_store_thread_pools", 10),
        }
    return {}


def api_settings(conf: cfg.ConfigOpts) -> Any:
    """The WSGI application's own settings (``glance_domain_adapters.wsgi.settings``)."""
    from glance_domain_adapters.wsgi.settings import ApiSettings, StoreDetail

    stores = config.stores_config(conf)
    details = {
        b.name: StoreDetail(type=b.driver, properties=store_properties(b), weight=b.weight)
        for b in stores.backends
    }
    return ApiSettings(
        public_endpoint=conf.public_endpoint,
        store_details=details,
        max_request_id_length=conf.max_request_id_length,
        client_socket_timeout=conf.client_socket_timeout or None,
        enable_v1_api=conf.enable_v1_api,
    )


def context_factory(
    conf: cfg.ConfigOpts, is_admin: Callable[[RequestContext], bool] | None = None
) -> Callable[[Mapping[str, Any]], RequestContext]:
    """``environ -> RequestContext`` from keystonemiddleware's headers (or the local admin,
    except with flavor = keystone: there a request without identity is refused)."""
    from glance_domain_adapters.wsgi.context import make_context_factory

    return make_context_factory(
        is_admin=is_admin,
        default_project=conf.default_project_id,
        max_request_id_length=conf.max_request_id_length,
        require_identity=config.auth_flavor(conf) == "keystone",
    )


def wrap_auth(conf: cfg.ConfigOpts, app: WsgiApp) -> WsgiApp:
    """Put keystonemiddleware's ``auth_token`` in front of ``app`` when flavor is keystone.

    ``[keystone_authtoken]`` is read from ``conf`` itself (``oslo_config_config``), so it lives
    in the same file as everything else, as in Glance. Invalid tokens are rejected by the
    middleware with 401 before reaching the app.
    """
    if config.auth_flavor(conf) != "keystone":
        return app
    from keystonemiddleware import auth_token

    return auth_token.AuthProtocol(app, {"oslo_config_config": conf})


def start_upload_recovery(conf: cfg.ConfigOpts, gateway: Any) -> Any:
    """Recover abandoned uploads of ``gateway``'s SQL database now and every
    ``upload_recovery_interval`` seconds, in a daemon thread (None: not a SQL repository)."""
    from glance_domain_adapters import upload_recovery

    repository = gateway.repository
    if not hasattr(repository, "lease_seconds"):
        return None
    recovery = upload_recovery.UploadRecovery(repository, gateway.stores, gateway.staging)
    return upload_recovery.start(recovery, conf.upload_recovery_interval)


def build_app(conf: cfg.ConfigOpts, *, gateway: Any = None, migrate: bool = True,
              recover_uploads: bool = False) -> WsgiApp:
    """The WSGI application for ``conf`` (behind ``auth_token`` when flavor = keystone).

    ``recover_uploads``: also run the search for abandoned uploads in this process (servers
    do; see :mod:`glance_domain_adapters.upload_recovery`)."""
    from glance_domain_adapters.wsgi.app import make_app

    # One enforcer per application: a handed-in gateway's policy also decides who is admin.
    policy = getattr(gateway, "policy", None) if gateway is not None else None
    if policy is None:
        policy = build_policy(conf)
    if gateway is None:
        gateway = build_gateway(conf, migrate=migrate, policy=policy)
    if recover_uploads:
        start_upload_recovery(conf, gateway)
    is_admin = getattr(policy, "is_admin", None)
    cache = getattr(gateway, "cache", None)
    prefetcher = None
    if cache is not None and hasattr(cache, "queued_images"):
        from glance_domain_adapters.image_cache import Prefetcher

        prefetcher = Prefetcher(cache, gateway.prefetch, conf.cache_prefetcher_interval)
        prefetcher.start()
    app = make_app(
        gateway,
        api_settings(conf),
        context_factory=context_factory(conf, is_admin),
        cache=cache,
        prefetcher=prefetcher,
    )
    return wrap_pipeline(conf, app, engine=getattr(getattr(gateway, "repository", None),
                                                   "engine", None),
                         stores=getattr(getattr(gateway, "stores", None), "registry", None))


def wrap_pipeline(conf: cfg.ConfigOpts, app: Any, *, engine: Any = None,
                  stores: Any = None) -> WsgiApp:
    """Glance's pipeline around the application, outermost first: the request log (request
    ids, access lines), ``/healthcheck`` beside everything else, CORS, ``http_proxy_to_wsgi``
    (``[oslo_middleware] enable_proxy_headers_parsing``), version discovery before
    authentication, keystonemiddleware's ``auth_token`` (flavor = keystone)."""
    from oslo_middleware import http_proxy_to_wsgi

    from glance_domain_adapters.wsgi.cors import HealthcheckOutside, wrap_cors
    from glance_domain_adapters.wsgi.health import make_healthcheck
    from glance_domain_adapters.wsgi.operations import RequestLog
    from glance_domain_adapters.wsgi.versions import VersionsOutside

    api = wrap_auth(conf, app)
    if config.auth_flavor(conf) == "keystone":
        api = VersionsOutside(app, api)
    conf.register_opts(http_proxy_to_wsgi.OPTS, group="oslo_middleware")
    if conf.oslo_middleware.enable_proxy_headers_parsing:
        api = http_proxy_to_wsgi.HTTPProxyToWSGI(api, conf)
    api = wrap_cors(conf, api)
    return RequestLog(HealthcheckOutside(make_healthcheck(conf, app, engine, stores), api))
