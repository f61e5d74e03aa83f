"""``glance-domain cache list | queue | delete | clear | prune | clean | prefetch``: the local
image cache in ``[DEFAULT] image_cache_dir``, in-process (Glance's ``glance-cache-manage``,
``glance-cache-pruner``, ``glance-cache-cleaner`` and ``glance-cache-prefetcher``).

Run them on the API host, with the server's configuration: they work on the same directory the
server uses (any number of processes may share it).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from glance_domain_adapters.cli import lookup
from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser, non_negative_int
from glance_domain_adapters.cli.output import print_record, print_records
from glance_domain_adapters.cli.runtime import Runtime

CACHED_COLUMNS = ("image_id", "size", "hits", "last_accessed", "last_modified")


def register(cache: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = command_parser(cache, "list", "list cached and queued images")
    listing.add_argument("--queued", action="store_true",
                         help="list the queued images instead of the cached ones")
    listing.set_defaults(handler=run_list)
    queue = command_parser(cache, "queue", "queue active images for the prefetcher")
    queue.add_argument("image_ids", metavar="IMAGE", nargs="+", help=lookup.IMAGE_HELP)
    queue.set_defaults(handler=run_queue)
    delete = command_parser(cache, "delete", "remove images from the cache and the queue")
    delete.add_argument("image_ids", metavar="IMAGE", nargs="+",
                        help="the image's name or ID (the ID of a deleted image works too)")
    delete.set_defaults(handler=run_delete)
    clear = command_parser(cache, "clear", "remove every cached and/or queued image")
    clear.add_argument("--target", choices=("all", "cache", "queue"), default="all",
                       help="what to empty (default: both)")
    clear.set_defaults(handler=run_clear)
    prune = command_parser(cache, "prune", "delete least recently used copies until the cache "
                           "fits image_cache_max_size (glance-cache-pruner)")
    prune.add_argument("--max-size", type=non_negative_int, metavar="BYTES",
                       help="prune to this size instead of image_cache_max_size")
    prune.set_defaults(handler=run_prune)
    clean = command_parser(cache, "clean", "delete invalid copies and copies stalled longer "
                           "than image_cache_stall_time (glance-cache-cleaner)")
    clean.add_argument("--stall-time", type=non_negative_int, metavar="SECONDS",
                       help="instead of image_cache_stall_time")
    clean.set_defaults(handler=run_clean)
    prefetch = command_parser(cache, "prefetch", "fetch every queued image into the cache now "
                              "(glance-cache-prefetcher)")
    prefetch.set_defaults(handler=run_prefetch)


def _cache(runtime: Runtime) -> Any:
    cache = getattr(runtime.gateway, "cache", None)
    if cache is None:
        raise CliError("the image cache is not enabled: set [DEFAULT] image_cache_dir")
    return cache


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_list(runtime: Runtime) -> int:
    cache = _cache(runtime)
    if runtime.args.queued:
        records: list[dict[str, Any]] = [{"image_id": i} for i in cache.queued_images()]
        columns: tuple[str, ...] = ("image_id",)
    else:
        records = cache.cached_images()
        if runtime.fmt != "json":
            records = [{**r, "last_accessed": _iso(r["last_accessed"]),
                        "last_modified": _iso(r["last_modified"])} for r in records]
        columns = CACHED_COLUMNS
    print_records(records, fmt=runtime.fmt, columns=runtime.columns, default_columns=columns,
                  out=runtime.stdout)
    return 0


def run_queue(runtime: Runtime) -> int:
    """As ``PUT /v2/cache/{id}``: the image must be visible and ``active``; the running
    server's prefetcher fetches it within ``cache_prefetcher_interval`` (or run ``prefetch``)."""
    cache = _cache(runtime)
    service = runtime.service()
    image_ids = [lookup.image_id(service, ref) for ref in runtime.args.image_ids]
    for image_id in image_ids:
        image = service.check_api_rule("cache_image", image_id)
        if image is None or image.status != "active":
            raise CliError(f"image {image_id}: only images with status active can be queued")
    queued = [i for i in image_ids if cache.queue(i)]
    print_record({"queued": queued}, fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0


def run_delete(runtime: Runtime) -> int:
    cache = _cache(runtime)
    service = runtime.service()
    service.check_api_rule("cache_delete")
    for ref in runtime.args.image_ids:
        image_id = lookup.cached_image_id(service, ref)
        cache.delete_cached(image_id)
        cache.delete_queued(image_id)
    return 0


def run_clear(runtime: Runtime) -> int:
    cache = _cache(runtime)
    runtime.service().check_api_rule("cache_delete")
    target = runtime.args.target
    record = {}
    if target in ("all", "cache"):
        record["cache_deleted"] = cache.clear_cached()
    if target in ("all", "queue"):
        record["queue_deleted"] = cache.clear_queued()
    print_record(record, fmt=runtime.fmt, columns=runtime.columns, out=runtime.stdout)
    return 0


def run_prune(runtime: Runtime) -> int:
    files, freed = _cache(runtime).prune(runtime.args.max_size)
    print_record({"total_files_pruned": files, "total_bytes_pruned": freed}, fmt=runtime.fmt,
                 columns=runtime.columns, out=runtime.stdout)
    return 0


def run_clean(runtime: Runtime) -> int:
    removed = _cache(runtime).clean(runtime.args.stall_time,
                                    runtime.gateway.cached_copy_is_stale)
    print_record(removed, fmt=runtime.fmt, columns=runtime.columns, out=runtime.stdout)
    return 0


def run_prefetch(runtime: Runtime) -> int:
    from glance_domain_adapters.image_cache import prefetch_queued

    cached, failed = prefetch_queued(_cache(runtime), runtime.gateway.prefetch)
    print_record({"cached": cached, "failed": failed}, fmt=runtime.fmt,
                 columns=runtime.columns, out=runtime.stdout)
    return 1 if failed else 0

