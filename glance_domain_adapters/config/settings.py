"""Reading a parsed configuration into what the rest of the service needs.

:func:`domain_settings` copies everything the domain needs once into a frozen
:class:`~glance_domain.settings.DomainSettings`; the other helpers answer the composition root's
questions (data folder, database URL, authentication flavor).
"""

from __future__ import annotations

import os
import re

from oslo_config import cfg

from glance_domain.settings import DomainSettings

_QUOTA_PATTERN = re.compile(r"^(\d+)((K|M|G|T)?B)?$")
_UNITS = {None: 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_storage_quota(value: str) -> int:
    """Bytes from a ``user_storage_quota`` value (``"0"``, ``"500MB"``, ``"2GB"``...).

    >>> parse_storage_quota("2KB")
    2048
    """
    match = _QUOTA_PATTERN.match(str(value).strip())
    if match is None:
        raise ValueError(
            f"user_storage_quota: {value!r} is not a number optionally followed by "
            "B, KB, MB, GB or TB"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def domain_settings(conf: cfg.ConfigOpts) -> DomainSettings:
    """Frozen settings for the domain, read once from ``conf``."""
    return DomainSettings(
        disk_formats=tuple(conf.image_format.disk_formats),
        container_formats=tuple(conf.image_format.container_formats),
        image_size_cap=conf.image_size_cap,
        user_storage_quota=parse_storage_quota(conf.user_storage_quota),
        image_member_quota=conf.image_member_quota,
        image_property_quota=conf.image_property_quota,
        image_tag_quota=conf.image_tag_quota,
        image_location_quota=conf.image_location_quota,
        limit_param_default=conf.limit_param_default,
        api_limit_max=conf.api_limit_max,
        hashing_algorithm=conf.hashing_algorithm,
        show_image_direct_url=conf.show_image_direct_url,
        show_multiple_locations=conf.show_multiple_locations,
        enabled_import_methods=tuple(conf.enabled_import_methods),
        task_time_to_live=conf.task.task_time_to_live,
        delayed_delete=conf.delayed_delete,
        glance_download_properties=tuple(conf.glance_download_properties.extra_properties),
    )


def data_dir(conf: cfg.ConfigOpts) -> str:
    """Absolute path of ``[DEFAULT] data_dir``."""
    return os.path.abspath(os.path.expanduser(conf.data_dir))


def database_url(conf: cfg.ConfigOpts) -> str:
    """``[database] connection``, or the SQLite file in ``data_dir`` when unset."""
    if conf.database.connection:
        return str(conf.database.connection)
    return "sqlite:///" + os.path.join(data_dir(conf), "glance.sqlite")


def uses_default_database(conf: cfg.ConfigOpts) -> bool:
    """True when the database is the implicit SQLite file (migrated automatically)."""
    return not conf.database.connection



def auth_flavor(conf: cfg.ConfigOpts) -> str:
    """``keystone`` or ``none`` (``[paste_deploy] flavor``; unset means ``none``).

    Glance's pipeline names such as ``keystone+cachemanagement`` count as ``keystone``.
    """
    flavor = (conf.paste_deploy.flavor or "none").strip().lower()
    return "keystone" if flavor.split("+")[0] == "keystone" else "none"


#: ``[paste_deploy] flavor`` pipelines of Glance that include its caching middleware.
CACHING_PIPELINES = frozenset({"caching", "cachemanagement", "cache"})


def caching_flavor(conf: cfg.ConfigOpts) -> bool:
    """Whether ``[paste_deploy] flavor`` names one of Glance's caching pipelines
    (``keystone+cachemanagement``, ``caching``...)."""
    flavor = (conf.paste_deploy.flavor or "").strip().lower()
    return any(part in CACHING_PIPELINES for part in flavor.split("+"))
