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
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from oslo_config import cfg

from glance_domain.settings import (
    GLANCE_CONTAINER_FORMATS,
    GLANCE_DISK_FORMATS,
    IMPORT_METHODS,
    DomainSettings,
)
from glance_domain_adapters.notifier.factory import notifier_opts

PROJECT = "glance-domain"

#: Store type aliases accepted in ``stores``/``enabled_backends`` -> our driver entry point names.
STORE_TYPE_ALIASES: Mapping[str, str] = {
    "file": "file",
    "filesystem": "file",
    "http": "http",
    "https": "http",
    "s3": "s3",
    "memory": "memory",
}

#: Name of the backend used when ``enabled_backends`` is not set (single-store mode).
SINGLE_STORE_BACKEND = "default"

# -- [DEFAULT]: serving ------------------------------------------------------------------------

server_opts: list[cfg.Opt] = [
    cfg.HostAddressOpt(
        "bind_host",
        default="127.0.0.1",
        help="Address the API server listens on. Defaults to the loopback address, unlike "
        "Glance's historical 0.0.0.0: without keystone ([paste_deploy] flavor unset) the API "
        "trusts identity headers (X-Roles, X-Project-Id...) sent by the client, so it must not "
        "be reachable from other hosts unless keystone authentication is enabled or a trusted "
        "proxy sits in front.",
    ),
    cfg.PortOpt("bind_port", default=9292, help="TCP port the API server listens on."),
    cfg.IntOpt(
        "workers",
        min=0,
        help="Number of worker processes of the API server. Unset or 0: one per CPU.",
    ),
    cfg.IntOpt(
        "worker_threads",
        default=8,
        min=1,
        help="Threads per worker process (glance-domain): each thread serves one request at a "
        "time, including long uploads and downloads.",
    ),
    cfg.IntOpt(
        "backlog",
        default=4096,
        min=1,
        help="Number of pending connections the listening socket queues.",
    ),
    cfg.IntOpt(
        "client_socket_timeout",
        default=900,
        min=0,
        help="Seconds a client connection may stay idle (no bytes sent or received) before the "
        "server closes it. 0 waits forever.",
    ),
    cfg.IntOpt(
        "max_header_line",
        default=16384,
        min=0,
        help="Longest accepted HTTP request header line, in bytes (large keystone tokens need "
        "more than the usual 8 KiB).",
    ),
    cfg.BoolOpt("http_keepalive", default=True, help="Keep client connections open between "
                "requests (HTTP/1.1 keep-alive)."),
    cfg.IntOpt(
        "max_request_id_length",
        default=64,
        min=0,
        help="Longest request id accepted from the X-Openstack-Request-ID header.",
    ),
    cfg.StrOpt(
        "public_endpoint",
        help="Public URL of this service, used in version documents instead of the request's "
        "host URL (set it when serving behind a proxy).",
    ),
]

# -- [DEFAULT]: data, limits, quotas, image display --------------------------------------------

common_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "data_dir",
        default="./data",
        help="Folder for local state (glance-domain): the default SQLite database and the "
        "default file store live here. A relative path is relative to the working directory "
        "of the server process.",
    ),
    cfg.IntOpt(
        "image_size_cap",
        default=1099511627776,
        min=1,
        max=9223372036854775808,
        help="Largest image, in bytes, that can be uploaded (default 1 TiB).",
    ),
    cfg.StrOpt(
        "user_storage_quota",
        default="0",
        help="Total image storage allowed per project. Bytes, or a number followed by B, KB, "
        "MB, GB or TB (powers of 1024, no space). 0 means unlimited.",
    ),
    cfg.IntOpt("image_member_quota", default=128, help="Members per image; negative: "
               "unlimited."),
    cfg.IntOpt("image_property_quota", default=128, help="Additional properties per image; "
               "negative: unlimited."),
    cfg.IntOpt("image_tag_quota", default=128, help="Tags per image; negative: unlimited."),
    cfg.IntOpt("image_location_quota", default=10, help="Locations per image; negative: "
               "unlimited."),
    cfg.IntOpt("limit_param_default", default=25, min=1, help="Page size of list requests "
               "that give no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1, help="Largest page size a list request "
               "may ask for; larger limits are reduced to this."),
    cfg.BoolOpt("show_image_direct_url", default=False, help="Show the store URL of an "
                "image's data as the 'direct_url' attribute."),
    cfg.BoolOpt("show_multiple_locations", default=False, help="Show the 'locations' "
                "attribute of images and allow changing it with PATCH."),
    cfg.StrOpt("hashing_algorithm", default="sha512", help="hashlib algorithm used for the "
               "os_hash_value image attribute (the 'multihash')."),
    cfg.DictOpt(
        "enabled_backends",
        help="Multi-store: named store backends as 'name:type' pairs, e.g. "
        "'fast:file, slow:s3'. Each backend is configured in the group of its name. When set, "
        "[glance_store] default_backend names the default one.",
    ),
]

import_opts: list[cfg.Opt] = [
    cfg.ListOpt(
        "enabled_import_methods",
        item_type=cfg.types.String(quotes=True),
        bounds=True,
        default=list(IMPORT_METHODS),
        help="Interoperable image import methods offered (glance-direct, web-download, "
        "copy-image). Staged data lives in '<data_dir>/staging' (per host), task records in "
        "the image database.",
    ),
]

task_opts: list[cfg.Opt] = [
    cfg.IntOpt("task_time_to_live", default=48, min=1, help="Hours a finished import task "
               "stays visible before it expires."),
    cfg.IntOpt("task_executor_threads", default=4, min=1, help="Threads per API process "
               "running import tasks (glance-domain)."),
]

import_filtering_opts: list[cfg.Opt] = [
    cfg.ListOpt("allowed_schemes", default=["http", "https"], help="web-download: URL "
                "schemes allowed (an empty list: all but disallowed_schemes)."),
    cfg.ListOpt("disallowed_schemes", default=[], help="web-download: URL schemes refused "
                "when allowed_schemes is empty."),
    cfg.ListOpt("allowed_hosts", default=[], help="web-download: hosts allowed (an empty "
                "list: all but disallowed_hosts)."),
    cfg.ListOpt("disallowed_hosts", default=[], help="web-download: hosts refused when "
                "allowed_hosts is empty."),
    cfg.ListOpt("allowed_ports", item_type=cfg.types.Integer(min=1, max=65535),
                default=[80, 443], help="web-download: ports allowed (an empty list: all "
                "but disallowed_ports)."),
    cfg.ListOpt("disallowed_ports", item_type=cfg.types.Integer(min=1, max=65535),
                default=[], help="web-download: ports refused when allowed_ports is empty."),
    cfg.ListOpt("allowed_networks", default=[], help="web-download (glance-domain): "
                "non-public networks (CIDRs) that may still be reached. Loopback, private, "
                "link-local and other non-routable addresses are refused otherwise."),
]

image_format_opts: list[cfg.Opt] = [
    cfg.ListOpt(
        "container_formats",
        default=list(GLANCE_CONTAINER_FORMATS),
        help="Allowed values of the container_format image attribute.",
        deprecated_opts=[cfg.DeprecatedOpt("container_formats", group="DEFAULT")],
    ),
    cfg.ListOpt(
        "disk_formats",
        default=list(GLANCE_DISK_FORMATS),
        help="Allowed values of the disk_format image attribute.",
        deprecated_opts=[cfg.DeprecatedOpt("disk_formats", group="DEFAULT")],
    ),
    cfg.BoolOpt(
        "require_image_format_match",
        default=True,
        help="Inspect the data of uploads and imports of 'bare' images and refuse it (415) when "
        "its format is not the image's disk_format. Off: a mismatch is only logged (and no "
        "virtual_size is recorded); safety-check failures are refused either way.",
    ),
    cfg.ListOpt(
        "gpt_safety_checks_nonfatal",
        default=[],
        help="Safety checks whose failure is tolerated for data detected as gpt (e.g. 'mbr').",
    ),
]

database_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the image database, e.g. postgresql+psycopg://user@host/glance "
        "or mysql+pymysql://user:pw@host/glance. Unset: an SQLite file 'glance.sqlite' in "
        "data_dir, created and migrated on first start.",
    ),
]

paste_deploy_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "flavor",
        sample_default="keystone",
        help="Deployment flavor. 'keystone' (or Glance pipeline names starting with "
        "'keystone', like 'keystone+cachemanagement'): every request is authenticated by "
        "keystonemiddleware's auth_token ([keystone_authtoken] options) and the identity is "
        "taken from the headers it sets. Unset or anything else: no authentication; identity "
        "headers sent by the client are trusted and a request without any acts as a local "
        "admin of default_project_id.",
    ),
    cfg.StrOpt("config_file", help="Accepted for compatibility with glance-api.conf; "
               "glance-domain builds its pipeline in code and does not read paste files."),
]

identity_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "default_project_id",
        default="admin",
        help="Without keystone: project of the local admin used for requests that carry no "
        "identity headers (glance-domain).",
    ),
]

# -- [glance_store] and per-backend groups -----------------------------------------------------

glance_store_opts: list[cfg.Opt] = [
    cfg.ListOpt("stores", default=["file", "http"], help="Single-store mode: store types "
                "that are enabled (file, http, s3, memory)."),
    cfg.StrOpt("default_store", default="file", help="Single-store mode: store type new "
               "images are uploaded to."),
    cfg.StrOpt("default_backend", help="Multi-store mode: name (from enabled_backends) of the "
               "backend new images are uploaded to."),
]

backend_common_opts: list[cfg.Opt] = [
    cfg.StrOpt("store_description", help="Human-readable description of this backend, shown "
               "by /v2/info/stores."),
    cfg.IntOpt("weight", default=0, help="Preference of this backend when an image has "
               "several locations (higher first)."),
]

file_store_opts: list[cfg.Opt] = [
    cfg.StrOpt("filesystem_store_datadir", help="Directory of the file store. Unset: "
               "'<data_dir>/images'."),
    cfg.MultiStrOpt("filesystem_store_datadirs", help="Several directories for the file "
                    "store, each as 'path' or 'path:priority'."),
    cfg.StrOpt("filesystem_store_metadata_file", help="JSON file with metadata returned "
               "with each location of this store."),
    cfg.IntOpt("filesystem_store_file_perm", default=0, help="Octal-looking permission "
               "bits for image files (0: leave the umask's default)."),
    cfg.IntOpt("filesystem_store_chunk_size", default=65536, min=1, help="Size in bytes of "
               "the chunks read from image files."),
    cfg.BoolOpt("filesystem_thin_provisioning", default=False, help="Do not write runs of "
                "zero bytes; leave holes (sparse files)."),
]

http_store_opts: list[cfg.Opt] = [
    cfg.StrOpt("https_ca_certificates_file", help="CA bundle used to verify HTTPS servers."),
    cfg.BoolOpt("https_insecure", default=True, help="Do not verify HTTPS server "
                "certificates."),
    cfg.DictOpt("http_proxy_information", default={}, help="Proxies by scheme, e.g. "
                "'http:http://proxy:3128, https:http://proxy:3128'."),
]

s3_store_opts: list[cfg.Opt] = [
    cfg.StrOpt("s3_store_host", help="S3 endpoint URL (or host[:port])."),
    cfg.StrOpt("s3_store_region_name", default="", help="S3 region name."),
    cfg.StrOpt("s3_store_access_key", secret=True, help="S3 access key."),
    cfg.StrOpt("s3_store_secret_key", secret=True, help="S3 secret key."),
    cfg.StrOpt("s3_store_bucket", help="Bucket holding the images."),
    cfg.BoolOpt("s3_store_create_bucket_on_put", default=False, help="Create the bucket when "
                "it does not exist yet."),
    cfg.StrOpt("s3_store_bucket_url_format", default="auto", choices=["auto", "virtual",
               "path"], help="Addressing style of bucket URLs."),
    cfg.IntOpt("s3_store_large_object_size", default=100, min=1, help="Objects larger than "
               "this (MiB) are uploaded in several parts."),
    cfg.IntOpt("s3_store_large_object_chunk_size", default=10, min=5, help="Part size (MiB) "
               "of multipart uploads."),
    cfg.IntOpt("s3_store_thread_pools", default=10, min=1, help="Parallel part uploads."),
    cfg.StrOpt("s3_store_cacert", default="", help="CA bundle for the S3 endpoint."),
]

memory_store_opts: list[cfg.Opt] = []

#: Options of each store driver, by driver entry point name.
STORE_OPTS: Mapping[str, list[cfg.Opt]] = {
    "file": file_store_opts,
    "http": http_store_opts,
    "s3": s3_store_opts,
    "memory": memory_store_opts,
}


def _all_store_opts() -> list[cfg.Opt]:
    return [opt for opts in STORE_OPTS.values() for opt in opts]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Every option of ours, by group (the ``oslo.config.opts`` entry point).

    Per-backend groups cannot be listed (their names come from ``enabled_backends``); their
    options are the store options shown in ``[glance_store]`` plus ``store_description`` and
    ``weight``.
    """
    return [
        ("DEFAULT", server_opts + common_opts + identity_opts + notifier_opts + import_opts),
        ("task", task_opts),
        ("import_filtering_opts", import_filtering_opts),
        ("image_format", image_format_opts),
        ("database", database_opts),
        ("glance_store", glance_store_opts + _all_store_opts()),
        ("paste_deploy", paste_deploy_opts),
    ]


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
    """A fresh ``ConfigOpts`` with our options registered (no global state)."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
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


# -- reading the parsed configuration ----------------------------------------------------------

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


def _group_options(group: Any, driver: str, conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The store options set in ``group`` (values equal to the default are left out, so each
    driver applies its own defaults)."""
    options: dict[str, Any] = {}
    for opt in STORE_OPTS[driver]:
        value = getattr(group, opt.dest)
        if value is not None and value != opt.default:
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

    store_conf = conf.glance_store
    default_driver = _store_driver(store_conf.default_store, "default_store")
    singles = [BackendConfig(
        name=SINGLE_STORE_BACKEND,
        driver=default_driver,
        options=_group_options(store_conf, default_driver, conf),
    )]
    seen = {default_driver}
    for store_type in store_conf.stores or []:
        driver = _store_driver(store_type, "stores")
        if driver in seen:
            continue
        seen.add(driver)
        singles.append(BackendConfig(
            name=driver, driver=driver, options=_group_options(store_conf, driver, conf),
        ))
    return StoresConfig(backends=tuple(singles), default=SINGLE_STORE_BACKEND, multi_store=False)


def _store_driver(store_type: str, option: str) -> str:
    driver = STORE_TYPE_ALIASES.get(str(store_type).strip().lower())
    if driver is None:
        raise ValueError(
            f"[glance_store] {option}: unknown store type {store_type!r}; known types: "
            f"{', '.join(sorted(STORE_TYPE_ALIASES))}"
        )
    return driver


def auth_flavor(conf: cfg.ConfigOpts) -> str:
    """``keystone`` or ``none`` (``[paste_deploy] flavor``; unset means ``none``).

    Glance's pipeline names such as ``keystone+cachemanagement`` count as ``keystone``.
    """
    flavor = (conf.paste_deploy.flavor or "none").strip().lower()
    return "keystone" if flavor.split("+")[0] == "keystone" else "none"


def iter_backend_groups(conf: cfg.ConfigOpts) -> Iterable[str]:
    """Names of the per-backend option groups (from ``enabled_backends``)."""
    return list((conf.enabled_backends or {}).keys())
