"""Glance's property protection file: ``[DEFAULT] property_protection_file`` and
``property_protection_rule_format``, read into the domain's
:class:`~glance_domain.protections.PropertyProtections`.

The file is an INI file whose section names are regular expressions over property names, each
with ``create``, ``read``, ``update`` and ``delete`` (see ``docs/configuration.md``). It is read
with :mod:`configparser` as Glance reads it (option names are case-insensitive, ``[DEFAULT]``
values apply to every section); a relative path is looked up next to the configuration files,
as oslo.config's ``find_file`` does for Glance. Anything wrong with it raises
:class:`PropertyProtectionError`, a one-line configuration error that stops the service.
"""

from __future__ import annotations

import configparser

from oslo_config import cfg

from glance_domain.protections import (
    OPERATIONS,
    RULE_FORMATS,
    InvalidPropertyRules,
    PropertyProtections,
)


class PropertyProtectionError(cfg.Error):
    """The property protection configuration cannot be used (the service must not start)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def property_protections(conf: cfg.ConfigOpts) -> PropertyProtections | None:
    """The rules of ``property_protection_file``, or None when it is not set."""
    path = conf.property_protection_file
    if not path:
        return None
    try:
        rule_format = conf.property_protection_rule_format
    except (cfg.ConfigFileValueError, ValueError):
        raise PropertyProtectionError(
            "property_protection_rule_format must be one of "
            f"{', '.join(RULE_FORMATS)}") from None
    found = conf.find_file(path)
    if found is None:
        raise PropertyProtectionError(f"property_protection_file {path!r} not found")
    parser = configparser.ConfigParser()
    try:
        with open(found, encoding="utf-8") as f:
            parser.read_file(f, source=found)
        sections = [
            (name, {op: parser.get(name, op, fallback=None) for op in OPERATIONS})
            for name in parser.sections()
        ]
    except OSError as exc:
        raise PropertyProtectionError(
            f"property_protection_file {found!r} cannot be read: {exc.strerror or exc}"
        ) from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise PropertyProtectionError(
            f"property_protection_file {found!r} is not a valid INI file: {_one_line(exc)}"
        ) from None
    try:
        return PropertyProtections.from_sections(sections, rule_format)
    except InvalidPropertyRules as exc:
        raise PropertyProtectionError(f"{found}: {_one_line(exc)}") from None
