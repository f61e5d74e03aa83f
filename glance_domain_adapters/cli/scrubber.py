"""``glance-domain scrubber [--daemon | --restore ID]``: Glance's ``glance-scrubber``.

Deletes the data of images deleted with ``[DEFAULT] delayed_delete`` once ``scrub_time`` has
passed, ``scrub_pool_size`` images at a time: once, or with ``--daemon`` every ``wakeup_time``
seconds until SIGTERM/SIGINT. ``--restore ID`` brings a ``pending_delete`` image back to
``active``. Several scrubbers (and API processes) may share one database safely.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_record
from glance_domain_adapters.cli.runtime import Runtime


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(
        commands, "scrubber",
        "delete the data of images deleted with delayed_delete (glance-scrubber)")
    parser.add_argument("--daemon", action="store_true",
                        help="run every [DEFAULT] wakeup_time seconds until stopped")
    parser.add_argument("--restore", metavar="IMAGE_ID",
                        help="return a pending_delete image to active")
    parser.set_defaults(handler=run)


def build_scrubber(conf: Any) -> Any:
    """A :class:`~glance_domain.scrubber.Scrubber` over the configured database and stores."""
    from glance_domain.scrubber import Scrubber
    from glance_domain_adapters import bootstrap
    from glance_domain_adapters.db.scrub_queue import SqlScrubQueue

    repository = bootstrap.build_repository(conf)
    return Scrubber(SqlScrubQueue(repository.engine, repository.get), bootstrap.build_stores(conf),
                    scrub_time=conf.scrub_time, pool_size=conf.scrub_pool_size,
                    location_users=repository.location_users)


def run(runtime: Runtime) -> int:
    args, conf = runtime.args, runtime.conf
    if args.restore and args.daemon:
        raise CliError("The restore and daemon options should not be set together. Please use "
                       "either of them in one request.")
    scrubber = build_scrubber(conf)
    if args.restore:
        image = scrubber.queue.restore(args.restore)
        print_record({"id": image.id, "status": image.status}, fmt=runtime.fmt,
                     columns=runtime.columns, out=runtime.stdout)
        return 0
    if not args.daemon:
        _print_report(runtime, scrubber.run())
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        _print_report(runtime, scrubber.run())
        stop.wait(max(conf.wakeup_time, 1))  # 0: run again after a second
    return 0


def _print_report(runtime: Runtime, report: Any) -> None:
    print_record({"images": report.images, "locations": report.locations,
                  "failed": report.failed}, fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    runtime.stdout.flush()
