"""Store options: ``[glance_store]``, per-backend groups and each store driver's options.

With ``enabled_backends = fast:file, slow:s3`` each backend has its own group (``[fast]``,
``[slow]``) holding :data:`backend_common_opts` plus the options of its store type, exactly like
Glance; in single-store mode the store options live in ``[glance_store]``. Which store types
exist and which options each has comes from the installed drivers (:mod:`.store_drivers`).
"""

from __future__ import annotations

from collections.abc import Mapping

from oslo_config import cfg

#: Glance's store type names that are aliases of a driver entry point name. Every installed
#: driver's own name is a store type too (see :mod:`.store_drivers`).
STORE_TYPE_ALIASES: Mapping[str, str] = {
    "filesystem": "file",
    "https": "http",
}

#: Name of the backend used when ``enabled_backends`` is not set (single-store mode).
SINGLE_STORE_BACKEND = "default"

# -- [glance_store] and per-backend groups -----------------------------------------------------

glance_store_opts: list[cfg.Opt] = [
    cfg.ListOpt("stores", default=["file", "http"], help="Single-store mode: store types "
                "that are enabled (file, http, s3, memory, or the name of any installed store "
                "driver plugin)."),
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
    cfg.BoolOpt("filesystem_store_fsync", default=True, help="fsync each image file and its "
                "directory before reporting an upload done (ours)."),
    cfg.BoolOpt("filesystem_store_direct_io", default=False, help="Write image files, and read "
                "files that are not in the page cache, with O_DIRECT, bypassing the page cache; "
                "falls back to ordinary I/O where the file system refuses it (ours, Linux). Off "
                "by default: a download right after an upload then comes from the page cache "
                "(2,461 vs 892 MB/s for 256 MiB in bench/bench_api.py on a quiet 2-CPU VM, for "
                "an upload 7% slower)."),
    cfg.BoolOpt("filesystem_store_warm_cache", default=True, help="After a direct write, have "
                "the new file read into the page cache by an idle-priority process once no "
                "upload is running, so later downloads are sent from the cache (ours)."),
    cfg.BoolOpt("filesystem_store_write_behind", default=True, help="Ordinary (not direct) "
                "writes: hand each written 8 MiB to the disk during the write (ours, Linux)."),
    cfg.BoolOpt("filesystem_store_drop_cache", default=False, help="Ordinary writes with "
                "write-behind: also drop written data from the page cache (ours)."),
]

http_store_opts: list[cfg.Opt] = [
    cfg.StrOpt("https_ca_certificates_file", help="CA bundle used to verify HTTPS servers."),
    cfg.BoolOpt("https_insecure", default=True, help="Do not verify HTTPS server "
                "certificates."),
    cfg.DictOpt("http_proxy_information", default={}, help="Proxies by scheme, e.g. "
                "'http:http://proxy:3128, https:http://proxy:3128'."),
    cfg.ListOpt("http_store_allowed_networks", default=[], help="Non-public networks (CIDRs, "
                "e.g. 10.0.0.0/8) the http store may still read from (ours). Loopback, private, "
                "link-local and other non-routable addresses are refused otherwise."),
    cfg.IntOpt("http_store_max_redirects", default=5, min=0, help="Redirects followed per "
               "request (ours)."),
    cfg.FloatOpt("http_store_connect_timeout", default=10.0, min=0.1, help="Seconds to wait "
                 "for a connection (ours)."),
    cfg.FloatOpt("http_store_read_timeout", default=60.0, min=0.1, help="Seconds to wait for "
                 "data on a connection (ours)."),
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

#: Glance's definitions of the built-in drivers' options, by driver entry point name. Options a
#: driver declares beyond these (and every option of a plugin driver) are converted from the
#: driver's own declaration by :func:`.store_drivers.driver_opts`.
STORE_OPTS: Mapping[str, list[cfg.Opt]] = {
    "file": file_store_opts,
    "http": http_store_opts,
    "s3": s3_store_opts,
    "memory": memory_store_opts,
}


def all_store_opts() -> list[cfg.Opt]:
    """Glance's definitions of every built-in driver's options."""
    return [opt for opts in STORE_OPTS.values() for opt in opts]

