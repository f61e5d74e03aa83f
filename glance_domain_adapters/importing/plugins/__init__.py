"""Import plugins from ``glance_domain.import_plugins`` entry points, and the built-in ones.

``[image_import_opts] image_import_plugins`` names the plugins to run, in order (Glance's
option and plugin names, so an operator's list works unchanged). Each name is an entry point
in the ``glance_domain.import_plugins`` group whose object is a class (or any callable):

* with a ``from_config(conf)`` class method, that is called with the parsed ``ConfigOpts``
  (the plugin may register and read options of its own there);
* otherwise it is called with no arguments.

The result must have ``run(job)`` (:class:`glance_domain.importing.plugins.ImportPlugin`).
Anything wrong (an unknown name, a plugin that cannot be imported or built) raises
:class:`ImportPluginError`, a configuration error: ``glance-domain serve`` stops with one line
naming the plugin and the cause.

Built in: ``no_op`` (:mod:`.no_op`), ``inject_image_metadata`` (:mod:`.inject_metadata`),
``image_decompression`` (:mod:`.decompression`), ``image_conversion`` (:mod:`.conversion`).
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import stevedore
from oslo_config import cfg
from stevedore import exception as stevedore_errors

from glance_domain.importing.plugins import ImportPlugin, NamedPlugin

NAMESPACE = "glance_domain.import_plugins"


class ImportPluginError(cfg.Error):
    """An import plugin named in the configuration cannot be used."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg

    def __str__(self) -> str:
        return str(self.msg)


def available_plugins() -> list[str]:
    """Names of every installed import plugin entry point (without importing them)."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=NAMESPACE)})


def load_plugin(name: str, conf: cfg.ConfigOpts) -> NamedPlugin:
    """The plugin registered as ``name``, built for ``conf`` (ImportPluginError if it cannot
    be)."""

    def failed(_manager: Any, entrypoint: Any, exc: BaseException) -> None:
        raise ImportPluginError(
            f"import plugin {name!r} ({entrypoint.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}") from exc

    try:
        manager = stevedore.DriverManager(
            NAMESPACE, name, invoke_on_load=False, on_load_failure_callback=failed)
    except stevedore_errors.NoMatches:
        raise ImportPluginError(
            f"unknown import plugin {name!r} in [image_import_opts] image_import_plugins; "
            f"installed plugins: {', '.join(available_plugins()) or '(none)'}") from None
    except stevedore_errors.MultipleMatches:
        raise ImportPluginError(
            f"several packages register the import plugin {name!r} in {NAMESPACE}") from None
    factory = manager.driver
    try:
        from_config = getattr(factory, "from_config", None)
        plugin = from_config(conf) if callable(from_config) else factory()
    except ImportPluginError:
        raise
    except Exception as exc:
        raise ImportPluginError(
            f"import plugin {name!r} cannot be set up: {type(exc).__name__}: {exc}") from exc
    if not isinstance(plugin, ImportPlugin):
        raise ImportPluginError(f"import plugin {name!r} is {plugin!r}, which has no run(job)")
    return NamedPlugin(name, plugin)


def load_import_plugins(conf: cfg.ConfigOpts) -> list[NamedPlugin]:
    """The plugins of ``[image_import_opts] image_import_plugins``, in order."""
    names = [n.strip() for n in conf.image_import_opts.image_import_plugins if n.strip()]
    return [load_plugin(name, conf) for name in names]
