"""The configured store backends, read from a parsed configuration (:func:`stores_config`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from oslo_config import cfg

from glance_domain_adapters.config.loading import register_backend_opts
from glance_domain_adapters.config.settings import data_dir
from glance_domain_adapters.config.store_drivers import driver_opts, single_store_drivers
from glance_domain_adapters.config.store_options import SINGLE_STORE_BACKEND


@attrs.frozen(kw_only=True)
class BackendConfig:
    """One store backend as configured: driver entry point name and its options."""

    name: str
    driver: str
    options: Mapping[str, Any]
    description: str = ""
    weight: int = 0


@attrs.frozen(kw_only=True)
class StoresConfig:
    """All configured store backends and the default one."""

    backends: tuple[BackendConfig, ...]
    default: str
    multi_store: bool

    def as_registry_mapping(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """``{name: (driver, options)}`` as ``glance_store_plugins.registry`` expects."""
        return {b.name: (b.driver, dict(b.options)) for b in self.backends}


def _is_set(conf: cfg.ConfigOpts, group: str, opt: cfg.Opt, value: Any) -> bool:
    """Whether the configuration sets ``opt`` (to any value, its default included)."""
    try:
        where = conf.get_location(opt.dest, group)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):  # pragma: no cover - registered above
        return bool(value != opt.default)
    return where is not None and where.location is not cfg.Locations.opt_default


def _group_options(group: Any, driver: str, conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The store options the configuration sets in ``group``; unset ones are left out, so each
    driver applies its own defaults (a value written in the file is passed on even when it
    equals Glance's default, e.g. ``https_insecure = true``)."""
    options: dict[str, Any] = {}
    for opt in driver_opts(driver):
        value = getattr(group, opt.dest)
        if value is not None and _is_set(conf, group._group.name, opt, value):
            options[opt.dest] = list(value) if isinstance(value, list) else value
    if driver == "file" and not options.get("filesystem_store_datadir") and not options.get(
        "filesystem_store_datadirs"
    ):
        options["filesystem_store_datadir"] = os.path.join(data_dir(conf), "images")
    return options


def stores_config(conf: cfg.ConfigOpts) -> StoresConfig:
    """Read the store backends: multi-store (``enabled_backends``) or single-store.

    Single-store mode follows the design rule "one backend named ``default``": the store type
    named by ``default_store`` becomes backend ``default`` (options from ``[glance_store]``); the
    other types in ``stores`` become backends named after their type (e.g. ``http``).
    """
    if conf.enabled_backends:
        drivers = register_backend_opts(conf)
        default = conf.glance_store.default_backend
        if not default:
            raise ValueError("enabled_backends is set but [glance_store] default_backend is not")
        if default not in drivers:
            raise ValueError(
                f"[glance_store] default_backend {default!r} is not one of enabled_backends "
                f"({', '.join(drivers)})"
            )
        backends = []
        for name, driver in drivers.items():
            group = conf[name]
            backends.append(
                BackendConfig(
                    name=name,
                    driver=driver,
                    options=_group_options(group, driver, conf),
                    description=group.store_description or "",
                    weight=group.weight,
                )
            )
        return StoresConfig(backends=tuple(backends), default=default, multi_store=True)

    register_backend_opts(conf)  # the drivers' options in [glance_store]
    store_conf = conf.glance_store
    default_driver, *others = single_store_drivers(conf)
    singles = [BackendConfig(
        name=SINGLE_STORE_BACKEND,
        driver=default_driver,
        options=_group_options(store_conf, default_driver, conf),
    )]
    singles.extend(
        BackendConfig(name=driver, driver=driver,
                      options=_group_options(store_conf, driver, conf))
        for driver in others
    )
    return StoresConfig(backends=tuple(singles), default=SINGLE_STORE_BACKEND, multi_store=False)


def iter_backend_groups(conf: cfg.ConfigOpts) -> Iterable[str]:
    """Names of the per-backend option groups (from ``enabled_backends``)."""
    return list((conf.enabled_backends or {}).keys())
