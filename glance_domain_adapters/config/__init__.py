"""Configuration: oslo.config options with Glance's names, read at the edge.

An operator's existing ``glance-api.conf`` loads unchanged: options we know keep Glance's names,
types and meaning; options we do not know are ignored by oslo.config (it only validates options
that are registered). Everything the domain needs is copied once into a frozen
:class:`~glance_domain.settings.DomainSettings` by :func:`domain_settings`; nothing below the
composition root reads ``ConfigOpts``.

Groups:

* ``[DEFAULT]`` server (bind_host, bind_port, workers...), limits and quotas, ``data_dir`` (ours),
  ``enabled_backends`` (multi-store, as in Glance).
* ``[image_format]`` disk_formats, container_formats.
* ``[database]`` connection (default: SQLite file in ``data_dir``).
* ``[glance_store]`` stores/default_store (single store) or default_backend (multi-store) and the
  store options; with ``enabled_backends = fast:file, slow:s3`` each backend has its own group
  (``[fast]``, ``[slow]``) holding the options of its store type, exactly like Glance.
* ``[paste_deploy]`` flavor: ``keystone`` puts keystonemiddleware's ``auth_token`` in front.
* ``[keystone_authtoken]`` and ``[oslo_policy]`` are registered by keystonemiddleware and
  oslo.policy themselves.

The package is split by job; everything public is re-exported here, so
``from glance_domain_adapters import config`` and ``glance_domain_adapters.config:list_opts``
keep working:

* :mod:`.options` and :mod:`.store_options`: the option definitions, by group;
* :mod:`.loading`: registering them on a ``ConfigOpts`` and parsing config files;
* :mod:`.settings`: ``DomainSettings`` and the other values read from a parsed configuration;
* :mod:`.stores`: the configured store backends;
* :mod:`.store_drivers`: store types and options from the installed store drivers;
* :mod:`.property_protections`: the rules of ``property_protection_file``.
"""

from __future__ import annotations

from glance_domain_adapters.config.loading import (
    PROJECT,
    config_files_from_argv,
    new_conf,
    parse,
    register_backend_opts,
    register_opts,
)
from glance_domain_adapters.config.options import (
    common_opts,
    database_opts,
    identity_opts,
    image_cache_opts,
    image_format_opts,
    import_filtering_opts,
    import_opts,
    list_opts,
    paste_deploy_opts,
    property_protection_opts,
    server_opts,
    task_opts,
)
from glance_domain_adapters.config.property_protections import (
    PropertyProtectionError,
    property_protections,
)
from glance_domain_adapters.config.settings import (
    auth_flavor,
    caching_flavor,
    data_dir,
    database_url,
    domain_settings,
    parse_storage_quota,
    uses_default_database,
)
from glance_domain_adapters.config.store_drivers import (
    driver_opts,
    installed_drivers,
    installed_store_types,
    resolve_store_type,
)
from glance_domain_adapters.config.store_options import (
    SINGLE_STORE_BACKEND,
    STORE_OPTS,
    STORE_TYPE_ALIASES,
    backend_common_opts,
    file_store_opts,
    glance_store_opts,
    http_store_opts,
    memory_store_opts,
    s3_store_opts,
)
from glance_domain_adapters.config.stores import (
    BackendConfig,
    StoresConfig,
    iter_backend_groups,
    stores_config,
)

__all__ = [
    "PROJECT",
    "PropertyProtectionError",
    "SINGLE_STORE_BACKEND",
    "STORE_OPTS",
    "STORE_TYPE_ALIASES",
    "BackendConfig",
    "StoresConfig",
    "auth_flavor",
    "caching_flavor",
    "backend_common_opts",
    "common_opts",
    "config_files_from_argv",
    "data_dir",
    "database_opts",
    "database_url",
    "domain_settings",
    "driver_opts",
    "installed_drivers",
    "installed_store_types",
    "resolve_store_type",
    "file_store_opts",
    "glance_store_opts",
    "http_store_opts",
    "identity_opts",
    "image_cache_opts",
    "image_format_opts",
    "import_filtering_opts",
    "import_opts",
    "iter_backend_groups",
    "list_opts",
    "memory_store_opts",
    "new_conf",
    "parse",
    "parse_storage_quota",
    "paste_deploy_opts",
    "property_protection_opts",
    "property_protections",
    "register_backend_opts",
    "register_opts",
    "s3_store_opts",
    "server_opts",
    "stores_config",
    "task_opts",
    "uses_default_database",
]
