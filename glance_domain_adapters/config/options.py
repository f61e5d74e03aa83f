"""Option definitions with Glance's names, by group, and :func:`list_opts` listing them all.

Store options are in :mod:`.store_options`; notifier options come from
:mod:`glance_domain_adapters.notifier.factory`.
"""

from __future__ import annotations

from oslo_config import cfg

from glance_domain.settings import (
    GLANCE_CONTAINER_FORMATS,
    GLANCE_DISK_FORMATS,
    GLANCE_DOWNLOAD_PROPERTIES,
    IMPORT_METHODS,
)
from glance_domain_adapters.config.scrubber_options import scrubber_opts
from glance_domain_adapters.config.store_options import all_store_opts, glance_store_opts
from glance_domain_adapters.notifier.factory import notifier_opts

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
        "client_header_timeout",
        default=30,
        min=1,
        help="Seconds a client has to send a complete request head (request line and headers) "
        "to glance-domain serve, counted from the connection (or, on a kept-alive connection, "
        "from the next request's first byte); the connection is closed after that. Connections "
        "still sending their head hold no worker thread (glance-domain).",
    ),
    cfg.IntOpt(
        "upload_lease_timeout",
        default=60,
        min=3,
        help="Seconds after which an image upload (PUT /file or /stage) whose process stopped "
        "renewing its lease (killed, host crash) is treated as abandoned: the image returns to "
        "queued and its partial data is removed. A live upload renews its lease every third of "
        "this (glance-domain).",
    ),
    cfg.IntOpt(
        "upload_recovery_interval",
        default=60,
        min=0,
        help="Seconds between two searches for abandoned uploads in each API worker process "
        "(one also runs when a worker starts); 0 searches only at start (glance-domain).",
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
    cfg.BoolOpt(
        "enable_v1_api",
        default=False,
        help="Serve the legacy Image API v1 under /v1 (images and members, mapped onto the "
        "same policy, quotas and notifications as v2) and list it in /versions. See "
        "docs/api-v1.md for its differences from Glance's v1.",
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
        "copy-image, and glance-download, off by default as in Glance). Staged data lives "
        "in '<data_dir>/staging' (per host), task records in "
        "the image database.",
    ),
]

property_protection_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "property_protection_file",
        help="Path of a property protection file, which restricts who may create, read, "
        "update and delete extra image properties. It is an INI file: each section name is a "
        "regular expression matched against property names (the first section found in the "
        "name applies; a property no section matches is refused to everyone) and gives "
        "'create', 'read', 'update' and 'delete', each a rule in the format of "
        "property_protection_rule_format, '@' (everybody) or '!' (nobody). A relative path is "
        "looked up next to the configuration files. Unset: no protection. An unreadable or "
        "invalid file stops the service at start-up.",
    ),
    cfg.StrOpt(
        "property_protection_rule_format",
        default="roles",
        choices=[("roles", "each rule is a comma-separated list of roles"),
                 ("policies", "each rule is the name of one policy rule")],
        help="How the rules of property_protection_file are written. 'roles': a "
        "comma-separated list of roles, any of which allows the operation (compared "
        "case-insensitively; service roles count). 'policies': the name of one rule of the "
        "policy file, which decides (as the policy rule '<section>:<operation>').",
    ),
]

image_import_opts: list[cfg.Opt] = [
    cfg.ListOpt(
        "image_import_plugins",
        item_type=cfg.types.String(quotes=True),
        bounds=True,
        default=[],
        sample_default="[no_op]",
        help="Import plugins run, in this order, on glance-direct and web-download imports "
        "after the data is staged and before it is written to the stores (never on "
        "copy-image). Names of 'glance_domain.import_plugins' entry points; built in: no_op, "
        "inject_image_metadata, image_decompression, image_conversion. Written in brackets "
        "as in Glance ('[image_decompression, image_conversion]'). An unknown name stops the "
        "server at start-up.",
    ),
]

class _ListBracketsOptional(cfg.types.List):
    """A list option read like Glance's ``[import_filtering_opts]`` lists, which are written
    in brackets (``allowed_ports = [80,443]``), and also without them (``80,443``), so both
    an operator's glance-api.conf and a plain oslo.config list work."""

    def __call__(self, value: object) -> list[object]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("[") and text.endswith("]"):
                value = text[1:-1]
        return super().__call__(value)  # type: ignore[no-any-return]


inject_metadata_opts: list[cfg.Opt] = [
    cfg.Opt(
        "ignore_user_roles",
        type=_ListBracketsOptional(item_type=cfg.types.String(quotes=True)),
        default=["admin"],
        help="inject_image_metadata plugin: imports started by a user holding any of these "
        "roles get no properties injected. Written with or without brackets "
        "('[admin, member]' as in Glance's documentation, or 'admin,member').",
    ),
    cfg.DictOpt(
        "inject",
        default={},
        help="inject_image_metadata plugin: extra properties set on imported images, as "
        "'key:value' pairs (e.g. 'hw_scsi_model:virtio-scsi,classified:no'). Names in the "
        "reserved os_glance namespace are dropped; the importing user's property "
        "protections and image_property_quota apply.",
    ),
]

image_conversion_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "output_format",
        default="raw",
        choices=("qcow2", "raw", "vmdk"),
        help="image_conversion plugin: the disk format imported images are converted to "
        "with qemu-img (their disk_format becomes this, container_format 'bare').",
    ),
]

task_opts: list[cfg.Opt] = [
    cfg.IntOpt("task_time_to_live", default=48, min=1, help="Hours a finished import task "
               "stays visible before it expires."),
    cfg.IntOpt("task_executor_threads", default=4, min=1, help="Threads per API process "
               "running import tasks (glance-domain)."),
]

wsgi_opts: list[cfg.Opt] = [
    cfg.IntOpt("task_pool_threads", min=1, help="Glance's name for the threads per API "
               "process running import tasks; when set it wins over [task] "
               "task_executor_threads."),
]


def _filter_list(name: str, item: cfg.types.ConfigType, default: list[object],
                 help: str) -> cfg.Opt:
    return cfg.Opt(name, type=_ListBracketsOptional(item_type=item), default=default,
                   help=help)


_PORT = cfg.types.Integer(min=1, max=65535)

import_filtering_opts: list[cfg.Opt] = [
    _filter_list("allowed_schemes", cfg.types.String(quotes=True), ["http", "https"],
                 "web-download: URL schemes allowed (an empty list: all but "
                 "disallowed_schemes)."),
    _filter_list("disallowed_schemes", cfg.types.String(quotes=True), [],
                 "web-download: URL schemes refused when allowed_schemes is empty."),
    _filter_list("allowed_hosts", cfg.types.String(quotes=True), [],
                 "web-download and http locations: hosts allowed (an empty list: all but "
                 "disallowed_hosts); a host listed here may be reached even on loopback or a "
                 "private network."),
    _filter_list("disallowed_hosts", cfg.types.String(quotes=True), [],
                 "web-download: hosts refused when allowed_hosts is empty."),
    _filter_list("allowed_ports", _PORT, [80, 443],
                 "web-download: ports allowed (an empty list: all but disallowed_ports)."),
    _filter_list("disallowed_ports", _PORT, [],
                 "web-download: ports refused when allowed_ports is empty."),
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
        "vmdk_allowed_types",
        default=["streamOptimized", "monolithicSparse"],
        help="VMDK create-types the image_conversion import plugin accepts as its input "
        "(single-file variants; an empty list refuses every VMDK).",
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
    # oslo.db's names, as in Glance; unset: glance-domain's pool (5 + 10 overflow, 10 s
    # wait, connections recycled after an hour). Not used for SQLite.
    cfg.IntOpt("max_pool_size", min=1, help="Connections kept open in each process's "
               "pool (PostgreSQL, MariaDB)."),
    cfg.IntOpt("max_overflow", min=0, help="Connections opened beyond max_pool_size when "
               "the pool is busy."),
    cfg.IntOpt("pool_timeout", min=1, help="Seconds to wait for a free connection before "
               "the request fails."),
    cfg.IntOpt("connection_recycle_time", min=1, help="Seconds after which a pooled "
               "connection is replaced."),
]

# -- [DEFAULT]: the image cache ---------------------------------------------------------------

image_cache_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "image_cache_dir",
        help="Directory of the local image cache. Set, it enables the cache management API "
        "(/v2/cache) and its prefetcher; downloads are served from and copied into the cache "
        "only when [paste_deploy] flavor also names a caching pipeline ('caching', "
        "'cachemanagement', 'keystone+caching', 'keystone+cachemanagement'), as in Glance. "
        "Copies are written under 'incomplete/', checked and then moved into the directory "
        "itself; 'queue/' holds the images queued for prefetching.",
    ),
    cfg.IntOpt(
        "image_cache_max_size",
        default=10 * (1 << 30),
        min=0,
        help="Size in bytes the image cache is pruned down to (least recently used copies "
        "first) by 'glance-domain cache prune' or POST /v2/cache/prune. Not a hard limit: "
        "the cache grows past it between prunes.",
    ),
    cfg.IntOpt(
        "image_cache_stall_time",
        default=86400,
        min=0,
        help="Seconds after which 'glance-domain cache clean' (or POST /v2/cache/clean) "
        "removes a copy still being written (a download that hung).",
    ),
    cfg.StrOpt(
        "image_cache_driver",
        default="centralized_db",
        choices=("centralized_db", "sqlite", "xattr"),
        ignore_case=True,
        help="Accepted for compatibility with Glance. glance-domain always keeps the cache's "
        "index in an SQLite file in image_cache_dir (one cache per host); the value only "
        "selects the shape of the records GET /v2/cache lists ('centralized_db' adds 'id' and "
        "'checksum') and whether GET /v2/cache/nodes/{image_id} answers ('centralized_db').",
    ),
    cfg.StrOpt(
        "image_cache_sqlite_db",
        default="cache.db",
        help="File name, in image_cache_dir, of the cache's SQLite index.",
    ),
    cfg.IntOpt(
        "cache_prefetcher_interval",
        default=300,
        min=0,
        help="Seconds between two looks of the API process's prefetcher at the queue "
        "directory (images queued with 'glance-domain cache queue' or by another process); 0 "
        "never looks. Images queued through PUT /v2/cache/{image_id} are fetched at once "
        "either way. (An option of Glance up to 2023.2, kept here.)",
    ),
    cfg.StrOpt(
        "worker_self_reference_url",
        help="URL of this API host, listed by GET /v2/cache/nodes/{image_id} for the images "
        "cached here (image_cache_driver = centralized_db).",
    ),
]

glance_download_opts: list[cfg.Opt] = [
    cfg.ListOpt(
        "extra_properties",
        item_type=cfg.types.String(quotes=True),
        bounds=True,
        default=list(GLANCE_DOWNLOAD_PROPERTIES),
        help="Prefixes of the properties a glance-download import copies from the remote "
        "image (os_glance_* never are); the others are left behind.",
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
        "admin of default_project_id. A '+caching' or '+cachemanagement' suffix (or "
        "'caching'/'cachemanagement' alone) also serves downloads from the image cache "
        "(image_cache_dir).",
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



def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Every option of ours, by group (the ``oslo.config.opts`` entry point).

    Per-backend groups cannot be listed (their names come from ``enabled_backends``); their
    options are the store options shown in ``[glance_store]`` plus ``store_description`` and
    ``weight``.
    """
    return [
        ("DEFAULT", server_opts + common_opts + identity_opts + notifier_opts + import_opts
         + property_protection_opts + image_cache_opts + scrubber_opts),
        ("task", task_opts),
        ("wsgi", wsgi_opts),
        ("image_import_opts", image_import_opts),
        ("inject_metadata_properties", inject_metadata_opts),
        ("image_conversion", image_conversion_opts),
        ("import_filtering_opts", import_filtering_opts),
        ("glance_download_properties", glance_download_opts),
        ("image_format", image_format_opts),
        ("database", database_opts),
        ("glance_store", glance_store_opts + all_store_opts()),
        ("paste_deploy", paste_deploy_opts),
        ("cors", _cors_opts()),
    ]


def _cors_opts() -> list[cfg.Opt]:
    from glance_domain_adapters.wsgi.cors import cors_opts

    return cors_opts()

