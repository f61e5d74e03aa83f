"""Options set in the configuration files that glance-domain does not use, named in one line.

An operator's glance-api.conf carries many options this build has no use for (``[database]``
retry settings, ``[paste_deploy] config_file``, the swift and rbd store options, the
``[os_glance_staging_store]`` section...). oslo.config silently ignores options nobody
registered, so without this module they would do nothing without a word. At start-up
:func:`warn_ignored_options` logs **one** warning line naming every option set in the files
that is not honoured, e.g.::

    ignored: [database] db_max_retries, [paste_deploy] config_file (set in the configuration
    files; glance-domain does not use them)

An option is honoured when glance-domain registers it (with Glance's meaning: see the
configuration reference), or when a library glance-domain runs reads it: keystonemiddleware
reads ``[keystone_authtoken]`` with ``flavor = keystone``, oslo.policy ``[oslo_policy]``,
castellan ``[key_manager]``, ``[barbican]`` and ``[vault]`` (image signature verification),
oslo.messaging its groups when a notification driver is set, oslo.log its ``[DEFAULT]``
options, oslo.middleware ``[healthcheck]`` and ``[oslo_middleware]``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from oslo_config import cfg

LOG = logging.getLogger("glance_domain_adapters.config")

#: Options glance-domain registers (so a file setting them parses) but does not act on.
REGISTERED_NOT_USED: frozenset[tuple[str, str]] = frozenset({
    ("paste_deploy", "config_file"),  # the pipeline is built in code
})

#: ``[DEFAULT]`` options oslo.messaging reads for notifications.
_MESSAGING_DEFAULTS = frozenset({"transport_url", "control_exchange"})
_MESSAGING_GROUPS = frozenset({"oslo_messaging_rabbit", "oslo_messaging_kafka",
                               "oslo_messaging_amqp"})


def _names(opt: cfg.Opt, group: str) -> Iterator[tuple[str, str]]:
    """``(group, name)`` under which a file may set ``opt``: its name and deprecated names."""
    yield group, opt.dest
    for old in opt.deprecated_opts or ():
        old_group = old.group or group
        if old.name:
            yield old_group, old.name.replace("-", "_")


def _library_options() -> Iterator[tuple[str, cfg.Opt]]:
    """``(group, opt)`` of the libraries whose options are honoured whenever set."""
    from oslo_log import _options as log_options  # oslo.log's own option list

    for group, opts in log_options.list_opts():
        for opt in opts:
            yield group or "DEFAULT", opt


def honoured_options(conf: cfg.ConfigOpts) -> set[tuple[str, str]]:
    """Every ``(group, name)`` glance-domain acts on with this configuration (backend
    sections included); whole groups read by a library are in :func:`honoured_groups`."""
    from glance_domain_adapters.config.loading import register_backend_opts
    from glance_domain_adapters.config.options import list_opts
    from glance_domain_adapters.config.store_options import STORE_OPTS, backend_common_opts

    names: set[tuple[str, str]] = set()
    for group, opts in list_opts():
        for opt in opts:
            names.update(_names(opt, group))
    try:
        backends = register_backend_opts(conf)
    except ValueError:  # reported by the store set-up, in its own words
        backends = {}
    for backend, driver in backends.items():
        for opt in backend_common_opts + STORE_OPTS[driver]:
            names.update(_names(opt, backend))
    for group, opt in _library_options():
        names.update(_names(opt, group))
    if _messaging_enabled(conf):
        names.update(("DEFAULT", name) for name in _MESSAGING_DEFAULTS)
    return names - REGISTERED_NOT_USED


def honoured_groups(conf: cfg.ConfigOpts) -> set[str]:
    """Groups a library reads in full (their options are registered only when it runs)."""
    from glance_domain_adapters.config.settings import auth_flavor

    groups = {"oslo_policy", "oslo_messaging_notifications", "healthcheck", "oslo_middleware",
              # castellan, when an upload's signature is verified (signatures.py)
              "key_manager", "barbican", "barbican_service_user", "vault"}
    if auth_flavor(conf) == "keystone":
        groups.add("keystone_authtoken")
    if _messaging_enabled(conf):
        groups |= _MESSAGING_GROUPS
    return groups


def _messaging_enabled(conf: cfg.ConfigOpts) -> bool:
    """Whether notifications go through oslo.messaging (a driver other than ``noop``)."""
    sections = _file_sections(conf)
    drivers = sections.get("oslo_messaging_notifications", {}).get("driver", [])
    return any(d.strip() and d.strip() != "noop"
               for value in drivers for d in str(value).split(","))


def _config_files(conf: cfg.ConfigOpts) -> list[str]:
    files = list(getattr(conf, "config_file", None) or [])
    return files or list(getattr(conf, "default_config_files", None) or [])


def _file_sections(conf: cfg.ConfigOpts) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values]}}`` of every configuration file, in order."""
    merged: dict[str, dict[str, list[str]]] = {}
    for path in _config_files(conf):
        sections: dict[str, dict[str, list[str]]] = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (OSError, cfg.ParseError):
            continue  # oslo.config itself reported it when parsing
        for section, keys in sections.items():
            merged.setdefault(section, {}).update(keys)
    return merged


def ignored_options(conf: cfg.ConfigOpts) -> list[str]:
    """``[group] name`` of every option set in the files that glance-domain does not use."""
    honoured = honoured_options(conf)
    groups = honoured_groups(conf)
    ignored = []
    for section, keys in _file_sections(conf).items():
        if section in groups:
            continue
        for key in keys:
            if (section, key) not in honoured:
                ignored.append(f"[{section}] {key}")
    return sorted(ignored, key=lambda s: (not s.startswith("[DEFAULT]"), s))


def warn_ignored_options(conf: cfg.ConfigOpts, log: logging.Logger = LOG) -> str | None:
    """Log the one start-up line naming the ignored options (returned; None if none)."""
    names = ignored_options(conf)
    if not names:
        return None
    line = (f"ignored: {', '.join(names)} (set in the configuration files; glance-domain "
            "does not use them)")
    log.warning("%s", line)
    return line
