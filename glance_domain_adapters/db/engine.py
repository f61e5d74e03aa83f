"""Engine factory: one place for pool, timeout and per-dialect settings.

Supported URLs: ``sqlite:///path`` (the embedded default; WAL, foreign keys, busy timeout),
``postgresql+psycopg://user@host/db`` and ``mysql+pymysql://user@host/db?charset=utf8mb4``
(MariaDB or MySQL). Every engine checks connections before use (``pool_pre_ping``) so a database
that went away and came back is used again without a restart, and connects with a timeout of a
few seconds so an unreachable server is reported quickly instead of hanging.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

#: Seconds to wait for a TCP connection to the database server.
CONNECT_TIMEOUT = 3
#: Seconds SQLite waits for a lock held by another connection.
SQLITE_BUSY_TIMEOUT = 10
#: Execution option a write transaction sets (SQLite then takes the write lock at BEGIN).
WRITE_OPTION = "glance_domain_write"


def default_url(data_dir: str | os.PathLike[str] = "data") -> str:
    """The embedded default: a SQLite file ``glance.sqlite`` in a local data folder."""
    path = Path(data_dir).resolve()
    return f"sqlite:///{path / 'glance.sqlite'}"


def make_engine(url: str | None = None, *, echo: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (None: the SQLite default in ``./data``).

    Extra keyword arguments are passed to ``sqlalchemy.create_engine``.
    """
    url_obj = make_url(url or default_url())
    backend = url_obj.get_backend_name()
    options: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if backend == "sqlite":
        database = url_obj.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
        options.update(kwargs)
        engine = create_engine(url_obj, **options)
        _configure_sqlite(engine)
        return engine
    options.update(pool_size=5, max_overflow=10, pool_timeout=CONNECT_TIMEOUT * 2,
                   pool_recycle=3600)
    if backend == "postgresql":
        # JIT compilation pays for long analytical queries; for an API's short ones it only
        # adds tens of milliseconds whenever the planner's cost estimate passes jit_above_cost
        # (a listing over a large table does), so it is off for this service's sessions.
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, "options": "-c jit=off"}
    elif backend in ("mysql", "mariadb"):
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        # Row locks + fresh reads after them; Glance-compatible and avoids stale snapshots.
        options["isolation_level"] = "READ COMMITTED"
    options.update(kwargs)
    engine = create_engine(url_obj, **options)
    if backend in ("mysql", "mariadb"):
        _configure_mysql(engine)
    return engine


def _configure_mysql(engine: Engine) -> None:
    """Steer the optimizer away from index merges for listings.

    A listing's scope is an OR (public, or own, or shared with me): MySQL/MariaDB like to
    answer it with a sort-union of two indexes and then sort every match, which grows with the
    table. Reading the (created_at, id) index in order and stopping at the page size is what
    keeps a page flat; without the merge strategies the optimizer picks that.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                "SET SESSION optimizer_switch = "
                "'index_merge_union=off,index_merge_sort_union=off,index_merge_intersection=off'"
            )
        finally:
            cursor.close()


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout; explicit BEGIN so writers lock up front."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # We issue BEGIN ourselves (below): pysqlite's implicit transactions are off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock at BEGIN (waiting up to busy_timeout), so two
        # writers never deadlock upgrading a shared lock; readers use a deferred BEGIN.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
