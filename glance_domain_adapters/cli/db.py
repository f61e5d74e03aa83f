"""``glance-domain db upgrade | version | purge | load-metadefs``: schema, rows, definitions.

Like ``glance-manage db sync`` / ``db version`` / ``db purge``, on ``[database] connection``.
"""

from __future__ import annotations

import argparse

from glance_domain_adapters.cli import load_metadefs
from glance_domain_adapters.cli.options import command_parser, non_negative_int
from glance_domain_adapters.cli.output import print_record
from glance_domain_adapters.cli.runtime import Runtime


def register(db: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    upgrade = command_parser(db, "upgrade", "create or upgrade the schema to the latest version")
    upgrade.set_defaults(handler=run_upgrade)
    version = command_parser(db, "version", "show the schema version of the database")
    version.set_defaults(handler=run_version)
    purge = command_parser(
        db, "purge", "remove rows of images and tasks deleted more than --age-in-days days ago"
    )
    purge.add_argument(
        "--age-in-days", type=non_negative_int, default=30, metavar="DAYS",
        help="keep rows deleted fewer than this many days ago (default: 30)",
    )
    purge.set_defaults(handler=run_purge)
    load_metadefs.register(db)


def _url(runtime: Runtime) -> str:
    """``[database] connection``, or the default SQLite file in ``data_dir`` (as the server)."""
    from glance_domain_adapters import config

    return config.database_url(runtime.conf)


def run_upgrade(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    url = _url(runtime)
    migrate.upgrade(url)
    version = migrate.current_version(url)
    print_record({"version": version}, fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0


def run_version(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    version = migrate.current_version(_url(runtime))
    print_record({"version": version}, fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0


def run_purge(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    result = migrate.purge(_url(runtime), runtime.args.age_in_days)
    record = {"age_in_days": runtime.args.age_in_days}
    if isinstance(result, int):
        record["purged"] = result
    elif isinstance(result, dict):
        record.update(result)
    print_record(record, fmt=runtime.fmt, columns=runtime.columns, out=runtime.stdout)
    return 0
