"""Store types from the installed ``glance_store_plugins.drivers`` and their options.

Every driver registered in the entry point namespace is a store type usable in
``[glance_store] stores``/``default_store`` and in ``enabled_backends = name:type``; Glance's
aliases (``filesystem``, ``https``) name built-in drivers. The options a driver declares
(:class:`glance_store_plugins.Option`) become oslo.config options of the section that configures
it (``[glance_store]`` in single-store mode, the backend's own group in multi-store mode).
Built-in drivers keep the option definitions of :data:`.store_options.STORE_OPTS` (Glance's
names, defaults and help); any option a driver declares beyond those is converted here.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from collections.abc import Iterable
from typing import Any

from oslo_config import cfg

from glance_domain_adapters.config.store_options import (
    STORE_OPTS,
    STORE_TYPE_ALIASES,
    backend_common_opts,
    glance_store_opts,
)

LOG = logging.getLogger(__name__)

#: Entry point namespace of store drivers (``glance_store_plugins.registry.NAMESPACE``).
NAMESPACE = "glance_store_plugins.drivers"

#: Module prefix of the drivers shipped with glance_store_plugins itself.
BUILTIN_PREFIX = "glance_store_plugins."

#: Option names a driver cannot use: they belong to ``[glance_store]`` or every backend group.
_RESERVED = frozenset(o.dest for o in (*glance_store_opts, *backend_common_opts))


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=NAMESPACE):
        seen.setdefault(ep.name, ep)
    return [seen[name] for name in sorted(seen)]


def installed_drivers(*, builtin: bool | None = None) -> list[str]:
    """Names of the installed store drivers (``builtin``: only built-in ones / only plugins)."""
    return [
        ep.name for ep in _entry_points()
        if builtin is None or ep.value.startswith(BUILTIN_PREFIX) == builtin
    ]


def installed_store_types() -> dict[str, str]:
    """``{store type: driver}``: every installed driver, plus Glance's aliases of them."""
    drivers = installed_drivers()
    types = {name: name for name in drivers}
    for alias, target in STORE_TYPE_ALIASES.items():
        if target in drivers:
            types.setdefault(alias, target)
    return types


def resolve_store_type(store_type: object, where: str) -> str:
    """The driver of ``store_type`` or ``ValueError`` (``where`` names the option) listing the
    installed types."""
    types = installed_store_types()
    driver = types.get(str(store_type).strip().lower())
    if driver is None:
        raise ValueError(
            f"{where}: unknown store type {store_type!r}; installed types: "
            f"{', '.join(sorted(types)) or '(none)'} (store drivers are installed packages "
            f"registering an entry point in {NAMESPACE})"
        )
    return driver


def _convert(option: object) -> cfg.Opt:
    """An oslo.config option for a ``glance_store_plugins.Option``."""
    name = str(getattr(option, "name"))  # noqa: B009 - any object shaped like Option
    kind = getattr(option, "type", str)
    default = getattr(option, "default", None)
    common: dict[str, Any] = {"help": getattr(option, "help", "") or None,
              "secret": bool(getattr(option, "secret", False))}
    if kind is bool:
        return cfg.BoolOpt(name, default=default, **common)
    if kind is int:
        return cfg.IntOpt(name, default=default, **common)
    if kind is float:
        return cfg.FloatOpt(name, default=default, **common)
    if kind is list:
        return cfg.ListOpt(name, default=None if default is None else list(default), **common)
    return cfg.StrOpt(name, default=None if default is None else str(default), **common)


@functools.cache
def driver_opts(driver: str) -> tuple[cfg.Opt, ...]:
    """The oslo.config options of store driver ``driver`` (loads the driver; ``ValueError``
    if it cannot be loaded). Cached, so registering them twice is a no-op."""
    from glance_store_plugins.errors import PluginLoadError
    from glance_store_plugins.registry import load_driver

    try:
        cls = load_driver(driver)
    except PluginLoadError as exc:
        raise ValueError(str(exc)) from exc
    known = list(STORE_OPTS.get(driver, ()))
    names = {opt.dest for opt in known}
    for name, option in cls.options.items():
        if name in names or name in _RESERVED:
            continue
        known.append(_convert(option))
    return tuple(known)


def register_store_opts(conf: cfg.ConfigOpts, group: str, drivers: Iterable[str]) -> None:
    """Register the options of ``drivers`` in ``group`` (``ValueError`` when two drivers
    declare the same option name differently)."""
    for driver in drivers:
        try:
            conf.register_opts(list(driver_opts(driver)), group=group)
        except cfg.DuplicateOptError as exc:
            raise ValueError(
                f"[{group}]: store driver {driver!r} declares option {exc.opt_name!r}, already "
                "declared differently by another store driver of this section"
            ) from None


def single_store_drivers(conf: cfg.ConfigOpts) -> list[str]:
    """Drivers of ``[glance_store] default_store`` and ``stores``, default first, once each."""
    store_conf = conf.glance_store
    drivers = [resolve_store_type(store_conf.default_store, "[glance_store] default_store")]
    for store_type in store_conf.stores or []:
        driver = resolve_store_type(store_type, "[glance_store] stores")
        if driver not in drivers:
            drivers.append(driver)
    return drivers


@functools.cache
def builtin_store_opts() -> tuple[cfg.Opt, ...]:
    """Options of every built-in store driver, as listed under ``[glance_store]`` (static:
    registered on every configuration and shown in the generated configuration reference)."""
    opts: list[cfg.Opt] = []
    seen: set[str] = set()
    for driver in [*STORE_OPTS, *installed_drivers(builtin=True)]:
        if driver in seen:
            continue
        seen.add(driver)
        try:
            found = driver_opts(driver)
        except ValueError:  # not installed (metadata of an older install): its static list
            found = tuple(STORE_OPTS.get(driver, ()))
        opts.extend(o for o in found if o.dest not in {x.dest for x in opts})
    return tuple(opts)


#: Whether :func:`.options.list_opts` (``oslo-config-generator --namespace glance_domain``) lists
#: the options of installed plugin drivers; ``tools/gen_docs.py`` turns it off so the committed
#: references document the built-in drivers only, whatever is installed.
LIST_PLUGIN_OPTS = True


def plugin_store_opts() -> list[cfg.Opt]:
    """Options of every installed store driver that is not built in, as listed under
    ``[glance_store]`` (a driver that cannot be loaded is left out with a warning)."""
    if not LIST_PLUGIN_OPTS:
        return []
    opts: list[cfg.Opt] = []
    for driver in installed_drivers(builtin=False):
        try:
            found = driver_opts(driver)
        except ValueError as exc:
            LOG.warning("%s", exc)
            continue
        opts.extend(o for o in found if o.dest not in {x.dest for x in opts})
    return opts
