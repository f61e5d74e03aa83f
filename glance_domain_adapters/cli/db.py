"""``glance-domain db ...``: the schema, rows and metadata definitions of the database.

The commands and their meanings are ``glance-manage``'s, on ``[database] connection``:

- ``sync`` (and its older name ``upgrade``): the complete, offline migration to the latest
  schema (``--version`` stops at a revision), adopting a database Glance created;
- ``version``: the schema revision (none: never migrated by glance-domain);
- ``check``: exit 0 when up to date, 3 when ``db expand`` is needed (Glance's codes; 4 and 5,
  "migrate" and "contract" needed, never happen here, see below);
- ``expand`` / ``migrate`` / ``contract``: the three steps of a rolling upgrade. Every schema
  change glance-domain ships only adds tables, columns or indexes, or widens a column, so all
  of them run in ``expand`` while older servers keep serving; there are no data migrations and
  nothing to contract, so ``migrate`` and ``contract`` only check that ``expand`` ran (and fail
  as Glance's do when it did not);
- ``purge``: remove rows deleted long ago; ``load-metadefs`` / ``unload-metadefs`` /
  ``export-metadefs``: metadata definitions in Glance's JSON format.

Glance's underscore spellings (``load_metadefs``...) are accepted too.
"""

from __future__ import annotations

import argparse

from glance_domain_adapters.cli import load_metadefs
from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser, non_negative_int
from glance_domain_adapters.cli.output import print_record
from glance_domain_adapters.cli.runtime import Runtime

#: ``db check`` exit code: ``db expand`` is needed (glance-manage's code).
EXIT_EXPAND_NEEDED = 3


def register(db: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name, text in (
        ("sync", "create or upgrade the schema to the latest version (offline migration)"),
        ("upgrade", "the same as sync"),
    ):
        parser = command_parser(db, name, text)
        parser.add_argument("--version", metavar="REVISION", default="head",
                            help="stop at this schema revision (default: the latest)")
        parser.add_argument("--no-metadefs", dest="metadefs", action="store_false",
                            help="do not load the standard metadata definitions into a new "
                                 "database")
        parser.set_defaults(handler=run_upgrade)
    version = command_parser(db, "version", "show the schema version of the database")
    version.set_defaults(handler=run_version)
    check = command_parser(db, "check", "report pending upgrades (exit 3: run 'db expand')")
    check.set_defaults(handler=run_check)
    expand = command_parser(db, "expand", "rolling upgrade, step 1: apply every schema change "
                                          "(older servers keep working)")
    expand.set_defaults(handler=run_expand)
    migrate = command_parser(db, "migrate", "rolling upgrade, step 2: data migrations (none "
                                            "exist; checks that expand ran)")
    migrate.set_defaults(handler=run_phase_check, phase="migrate")
    contract = command_parser(db, "contract", "rolling upgrade, step 3: remove what older "
                                              "servers needed (nothing; checks that expand ran)")
    contract.set_defaults(handler=run_phase_check, phase="contract")
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


def _show(runtime: Runtime, record: dict[str, object]) -> None:
    print_record(record, fmt=runtime.fmt, columns=runtime.columns, out=runtime.stdout)


def run_upgrade(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    url = _url(runtime)
    before = migrate.current_version(url)
    target = getattr(runtime.args, "version", "head") or "head"
    from alembic.util import CommandError

    try:
        version = migrate.upgrade(url, target)
    except CommandError as exc:
        raise CliError(f"cannot migrate to revision {target!r}: {exc}") from None
    record: dict[str, object] = {"version": version}
    if before == version:
        record["result"] = "up to date, no migrations needed"
    else:
        record["result"] = f"synced from {before or 'a new database or one Glance created'}"
    if before is None and getattr(runtime.args, "metadefs", True) and target == "head":
        loaded = load_metadefs.load_standard_if_empty(runtime)
        if loaded is not None:
            record["metadefs"] = loaded
    _show(runtime, record)
    return 0


def run_version(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    _show(runtime, {"version": migrate.current_version(_url(runtime))})
    return 0


def run_check(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    current = migrate.current_version(_url(runtime))
    latest = migrate.head_version()
    if current == latest:
        _show(runtime, {"version": current, "latest": latest,
                        "result": "Database is up to date. No upgrades needed."})
        return 0
    _show(runtime, {"version": current, "latest": latest,
                    "result": "Your database is not up to date. Your first step is to run "
                              "`glance-domain db expand`."})
    return EXIT_EXPAND_NEEDED


def run_expand(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    url = _url(runtime)
    before = migrate.current_version(url)
    version = migrate.upgrade(url)
    result = ("Database expansion is up to date. No expansion needed." if before == version
              else "Expanded the database from "
                   f"{before or 'a new database or one Glance created'}.")
    _show(runtime, {"version": version, "result": result})
    return 0


def run_phase_check(runtime: Runtime) -> int:
    from glance_domain_adapters.db import migrate

    current = migrate.current_version(_url(runtime))
    if current != migrate.head_version():
        step = "Data migration" if runtime.args.phase == "migrate" else "Database contraction"
        raise CliError(f"{step} did not run: it cannot run before database expansion. Run "
                       "database expansion first using 'glance-domain db expand'.")
    _show(runtime, {"version": current,
                    "result": "Database is up to date. No migrations needed."})
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
