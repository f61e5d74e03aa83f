"""Building and parsing a ``ConfigOpts``: registering our options, reading config files."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from glance_domain_adapters.config.options import list_opts
from glance_domain_adapters.config.store_options import (
    STORE_OPTS,
    STORE_TYPE_ALIASES,
    backend_common_opts,
)

PROJECT = "glance-domain"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register our static options on ``conf`` (idempotent)."""
    for group, opts in list_opts():
        conf.register_opts(opts, group=None if group == "DEFAULT" else group)


def register_backend_opts(conf: cfg.ConfigOpts) -> dict[str, str]:
    """Register the option group of every backend in ``enabled_backends``.

    Returns ``{backend_name: driver_name}``. Must run after the config files were parsed.
    Raises ``ValueError`` naming the backend when its type is unknown.
    """
    backends: dict[str, str] = {}
    for name, store_type in (conf.enabled_backends or {}).items():
        driver = STORE_TYPE_ALIASES.get(str(store_type).strip().lower())
        if driver is None:
            raise ValueError(
                f"enabled_backends: backend {name!r} has unknown store type {store_type!r}; "
                f"known types: {', '.join(sorted(STORE_TYPE_ALIASES))}"
            )
        conf.register_opts(backend_common_opts + STORE_OPTS[driver], group=name)
        backends[name] = driver
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

