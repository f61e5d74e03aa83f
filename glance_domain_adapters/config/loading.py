"""Building and parsing a ``ConfigOpts``: registering our options, reading config files."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from glance_domain_adapters.config.options import list_opts
from glance_domain_adapters.config.store_drivers import (
    register_store_opts,
    resolve_store_type,
    single_store_drivers,
)
from glance_domain_adapters.config.store_options import backend_common_opts

PROJECT = "glance-domain"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register our static options on ``conf`` (idempotent); the options of plugin store
    drivers are registered by :func:`register_backend_opts` for the drivers in use."""
    for group, opts in list_opts(plugins=False):
        conf.register_opts(opts, group=None if group == "DEFAULT" else group)


def register_backend_opts(conf: cfg.ConfigOpts) -> dict[str, str]:
    """Register the options of the configured store drivers: in multi-store mode the option
    group of every backend in ``enabled_backends`` (common options + its driver's), in
    single-store mode the options of the ``stores``/``default_store`` drivers in
    ``[glance_store]``.

    Returns ``{backend_name: driver_name}`` of ``enabled_backends`` (empty in single-store
    mode). Must run after the config files were parsed. Raises ``ValueError`` naming the
    backend or option when a store type is not installed (listing the installed ones).
    """
    backends: dict[str, str] = {}
    for name, store_type in (conf.enabled_backends or {}).items():
        driver = resolve_store_type(store_type, f"enabled_backends: backend {name!r}")
        conf.register_opts(backend_common_opts, group=name)
        register_store_opts(conf, name, [driver])
        backends[name] = driver
    if not backends:
        register_store_opts(conf, "glance_store", single_store_drivers(conf))
    return backends


def new_conf() -> cfg.ConfigOpts:
    """A fresh ``ConfigOpts`` with our options and oslo.log's registered (no global
    state)."""
    from glance_domain_adapters import logs

    conf = cfg.ConfigOpts()
    register_opts(conf)
    logs.register(conf)
    return conf


def parse(
    conf: cfg.ConfigOpts,
    args: Sequence[str] | None = None,
    config_files: Sequence[str] | None = None,
) -> cfg.ConfigOpts:
    """Parse ``args`` (``--config-file``...) and ``config_files`` into ``conf``.

    Unknown options in the files are ignored, so an operator's glance-api.conf works. Backend
    groups of ``enabled_backends`` are registered after parsing.
    """
    conf(
        list(args or []),
        project=PROJECT,
        default_config_files=list(config_files) if config_files is not None else [],
        default_config_dirs=[],
        validate_default_values=True,
    )
    register_backend_opts(conf)
    return conf


def config_files_from_argv(argv: Sequence[str]) -> list[str]:
    """The values of every ``--config-file`` option in ``argv`` (other arguments ignored)."""
    files = []
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--config-file" and i + 1 < len(args):
            files.append(args[i + 1])
        elif arg.startswith("--config-file="):
            files.append(arg.split("=", 1)[1])
    return files

