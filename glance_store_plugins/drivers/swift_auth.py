"""Credentials of the ``swift`` driver: glance_store's options or its ``swift_store_config_file``.

glance_store keeps Swift credentials either in options (``swift_store_auth_address``,
``swift_store_user``, ``swift_store_key``, ``swift_store_auth_version``) or, preferably, in a
separate file named by ``swift_store_config_file`` with one section per *reference*::

    [ref1]
    auth_address = http://keystone.example.com:5000/v3
    auth_version = 3
    user = service:glance            # <project>:<user> for Keystone, <account>:<user> for v1
    key = secret
    user_domain_id = default         # Keystone v3 (also user_domain_name, project_domain_id,
    project_domain_id = default      # project_domain_name)

``default_swift_reference`` names the section used for writes; a ``swift+config://<ref>/...``
location names the section to read it with. This module turns either form into the keyword
arguments of :class:`swiftclient.client.Connection`.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from typing import Any

import attrs

from glance_store_plugins.errors import ConfigError

_DOMAIN_KEYS = ("user_domain_id", "user_domain_name", "project_domain_id", "project_domain_name")


@attrs.frozen(kw_only=True)
class Credentials:
    """How to authenticate to Swift (``key`` is secret)."""

    auth_address: str
    user: str
    key: str = attrs.field(repr=False)
    auth_version: str = "3"
    domains: Mapping[str, str] = attrs.field(factory=dict)

    def connection_args(self) -> dict[str, Any]:
        """Keyword arguments of ``swiftclient.client.Connection`` for these credentials."""
        if self.auth_version == "1":
            return {"authurl": self.auth_address, "user": self.user, "key": self.key,
                    "auth_version": "1"}
        project, sep, user = self.user.partition(":")
        if not sep:
            project, user = "", self.user
        options: dict[str, str] = {k: v for k, v in self.domains.items() if v}
        if project:
            options["project_name"] = project
            options["tenant_name"] = project
        return {"authurl": self.auth_address, "user": user, "key": self.key,
                "auth_version": self.auth_version, "os_options": options,
                "tenant_name": project or None}


def load_references(path: str, where: str) -> dict[str, Credentials]:
    """Every reference (section) of a glance_store ``swift_store_config_file``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except (OSError, configparser.Error) as exc:
        raise ConfigError(f"{where}: cannot read swift_store_config_file {path!r}: "
                          f"{type(exc).__name__}") from None
    refs: dict[str, Credentials] = {}
    for name in parser.sections():
        section = parser[name]
        missing = [k for k in ("auth_address", "user", "key") if not section.get(k)]
        if missing:
            raise ConfigError(f"{where}: reference [{name}] of {path!r} lacks "
                              f"{', '.join(missing)}")
        refs[name] = Credentials(
            auth_address=section["auth_address"].strip(),
            user=section["user"].strip(),
            key=section["key"].strip(),
            auth_version=check_version(section.get("auth_version", "3"), where),
            domains={k: section[k].strip() for k in _DOMAIN_KEYS if section.get(k)},
        )
    return refs


def check_version(value: str, where: str) -> str:
    """``1``, ``2`` or ``3`` (``v3``, ``3.0`` accepted); ConfigError otherwise."""
    version = str(value).strip().lower().lstrip("v").split(".")[0]
    if version not in ("1", "2", "3"):
        raise ConfigError(f"{where}: swift auth version must be 1, 2 or 3, not {value!r}")
    return version
