"""``glance-domain image verify [ID ...] [--all]``: the integrity scrub (beyond Glance).

Re-reads each stored copy through its store driver and compares it with the image's size,
``checksum`` and ``os_hash_value`` (``glance_domain.verification``); prints one row per copy
and exits 1 when any copy differs, is missing or cannot be read. ``--quarantine`` deactivates
such images with the reason in ``os_glance_verify_failure``. ``--daemon`` checks every image
again and again, each pass spread over ``--window`` seconds; ``--bandwidth`` caps the reads.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from glance_domain.query import ImageQuery
from glance_domain.verification import Finding, Throttle, Verifier
from glance_domain_adapters.cli import lookup
from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_records
from glance_domain_adapters.cli.runtime import Runtime

COLUMNS = ("id", "name", "store", "outcome", "detail")
#: Statuses of images that hold data (the others have nothing to verify).
WITH_DATA = ("active", "deactivated")
_RATE = re.compile(r"^(\d+)\s*([KMGT]?)(i?B)?(/s)?$", re.IGNORECASE)


def rate(text: str) -> int:
    """Bytes per second from ``50M``, ``1G``, ``200MiB/s``, ``1048576``... (powers of 1024)."""
    match = _RATE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate such as 50M or 1G")
    return int(match.group(1)) * 1024 ** "_KMGT".index(match.group(2).upper() or "_")


def register(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(
        image, "verify",
        "re-read stored image data and compare it with the recorded size and checksums")
    parser.add_argument("image_ids", nargs="*", metavar="IMAGE",
                        help="images to check (names or IDs)")
    parser.add_argument("--all", action="store_true", help="check every image that has data")
    parser.add_argument("--quarantine", action="store_true",
                        help="deactivate images that fail, with the reason in the property "
                        "os_glance_verify_failure")
    parser.add_argument("--bandwidth", type=rate, metavar="RATE",
                        help="read at most RATE bytes per second (50M, 1G...)")
    parser.add_argument("--daemon", action="store_true",
                        help="check every image again and again until SIGTERM (implies --all)")
    parser.add_argument("--window", type=int, default=86400, metavar="SECONDS",
                        help="with --daemon: spread each pass over this many seconds "
                        "(default: 86400, one pass a day)")
    parser.set_defaults(handler=run)


def _all_images(service: Any) -> Iterator[Any]:
    marker = None
    while True:
        page = service.list_images(ImageQuery(visibility="all", limit=500, marker=marker))
        yield from (image for image in page if image.status in WITH_DATA)
        if len(page) < 500:
            return
        marker = page[-1].id


def _row(finding: Finding) -> dict[str, Any]:
    return {"id": finding.image_id, "name": finding.name, "store": finding.backend,
            "outcome": finding.outcome, "detail": finding.detail}


def run(runtime: Runtime) -> int:
    args = runtime.args
    if not args.image_ids and not (args.all or args.daemon):
        raise CliError("name images to check, or pass --all", exit_code=2)
    if args.image_ids and (args.all or args.daemon):
        raise CliError("image ids cannot be combined with --all or --daemon", exit_code=2)
    service = runtime.service()
    gateway = runtime.gateway
    verifier = Verifier(gateway.stores, gateway.notifier, throttle=Throttle(args.bandwidth),
                        context=service.context)
    if args.daemon:
        return _daemon(runtime, service, verifier)
    images = ([lookup.find_image(service, i) for i in args.image_ids] if args.image_ids
              else _all_images(service))
    findings = [f for image in images for f in _check(runtime, service, verifier, image)]
    print_records([_row(f) for f in findings], fmt=runtime.fmt, columns=runtime.columns,
                  default_columns=COLUMNS, out=runtime.stdout)
    return 1 if any(f.failed for f in findings) else 0


def _check(runtime: Runtime, service: Any, verifier: Verifier, image: Any) -> list[Finding]:
    findings = verifier.verify(image)
    failed = [f for f in findings if f.failed]
    if failed and runtime.args.quarantine:
        reason = "; ".join(f"{f.outcome} in {f.backend or 'store'}: {f.detail}" for f in failed)
        service.quarantine_image(image.id, f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
                                 f" {reason}"[:255])
    return findings


def _daemon(runtime: Runtime, service: Any, verifier: Verifier) -> int:
    """Passes over every image until SIGTERM/SIGINT, each spread over ``--window`` seconds;
    each failure is printed as it is found."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    window = max(runtime.args.window, 1)
    while not stop.is_set():
        started = time.monotonic()
        ids = [image.id for image in _all_images(service)]
        for index, image_id in enumerate(ids):
            if stop.is_set():
                break
            try:
                image = service.get_image(image_id)
            except Exception:  # deleted since the listing
                continue
            failed = [f for f in _check(runtime, service, verifier, image) if f.failed]
            if failed:
                print_records([_row(f) for f in failed], fmt=runtime.fmt,
                              columns=runtime.columns, default_columns=COLUMNS,
                              out=runtime.stdout)
                runtime.stdout.flush()
            stop.wait(max(0.0, started + window * (index + 1) / len(ids) - time.monotonic()))
        if not ids:
            stop.wait(window)
    return 0
