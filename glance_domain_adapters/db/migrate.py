"""Schema migrations and housekeeping: ``glance-domain db upgrade | version | purge``.

The alembic scripts ship inside the package (``db/migrations``), so no ``alembic.ini`` is needed:
the configuration is built here. Revisions are recorded in ``glance_domain_alembic_version``
(not Glance's ``alembic_version``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, and_, delete, insert, inspect, or_, select, true

from glance_domain import errors
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.errors import translated
from glance_domain_adapters.db.sqlite_stats import seed_planner_statistics
from glance_domain_adapters.db.tables import (
    CHILD_TABLES,
    image_id_tombstones,
    image_locations,
    images,
)
from glance_domain_adapters.db.task_tables import task_info, tasks

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "glance_domain_alembic_version"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_version() -> str | None:
    """The newest revision shipped with this package."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def _engine(url: str | Engine | None) -> tuple[Engine, bool]:
    if isinstance(url, Engine):
        return url, False
    return make_engine(url), True


def upgrade(url: str | Engine | None = None, revision: str = "head") -> str | None:
    """Bring the database at ``url`` (or an engine) to ``revision``; returns the new version.

    On SQLite it also gives the planner typical statistics if it has none (see
    :mod:`.sqlite_stats`).
    """
    engine, owned = _engine(url)
    try:
        with translated(), engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            if conn.dialect.name == "sqlite":
                seed_planner_statistics(conn)
        return current_version(engine)
    finally:
        if owned:
            engine.dispose()


def current_version(url: str | Engine | None = None) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine, owned = _engine(url)
    try:
        with translated(), engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}
            )
            return context.get_current_revision()
    finally:
        if owned:
            engine.dispose()


def purge(url: str | Engine | None, age_in_days: int, *, now: dt.datetime | None = None) -> int:
    """Hard-delete rows soft-deleted more than ``age_in_days`` days ago; returns images purged.

    Child rows of purged images go with them (whatever their own state); soft-deleted child rows
    of live images go too. Tombstones of image ids stay forever, so purged ids stay unusable.
    Tasks deleted, or expired, more than ``age_in_days`` days ago go with their ``task_info``.
    """
    if not isinstance(age_in_days, int) or isinstance(age_in_days, bool) or age_in_days < 0:
        raise errors.InvalidInput("age_in_days must be a non-negative integer")
    engine, owned = _engine(url)
    current = now or dt.datetime.now(dt.UTC)
    cutoff = current.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=age_in_days)
    try:
        with translated(), engine.begin() as conn:
            if inspect(conn).has_table("tasks"):
                _purge_tasks(conn, cutoff)
            if not inspect(conn).has_table("images"):
                return 0
            # data still waiting for the scrubber keeps its rows (they are its queue)
            waiting = image_locations.c.status == "pending_delete"
            restorable = select(images.c.id).where(images.c.status == "pending_delete")
            old = and_(
                images.c.deleted == true(), images.c.deleted_at < cutoff,
                images.c.status != "pending_delete",
                ~select(image_locations.c.id)
                .where(image_locations.c.image_id == images.c.id, waiting).exists(),
            )
            doomed = select(images.c.id).where(old)
            # Databases created by Glance have no tombstones yet: record purged ids first.
            missing = select(images.c.id, images.c.deleted_at).where(
                old, ~select(image_id_tombstones.c.id)
                .where(image_id_tombstones.c.id == images.c.id).exists()
            )
            conn.execute(insert(image_id_tombstones).from_select(["id", "deleted_at"], missing))
            for table in CHILD_TABLES:
                conn.execute(delete(table).where(table.c.image_id.in_(doomed)))
                gone = and_(table.c.deleted == true(), table.c.deleted_at < cutoff,
                            table.c.image_id.not_in(restorable))
                if table is image_locations:
                    gone = and_(gone, ~waiting)
                conn.execute(delete(table).where(gone))
            ids = list(conn.execute(doomed).scalars())
            if ids:
                conn.execute(delete(images).where(images.c.id.in_(ids)))
            return len(ids)
    finally:
        if owned:
            engine.dispose()


def _purge_tasks(conn: Connection, cutoff: dt.datetime) -> None:
    """Delete tasks soft-deleted, or expired (never listed since), before ``cutoff``."""
    old = or_(
        and_(tasks.c.deleted == true(), tasks.c.deleted_at < cutoff),
        tasks.c.expires_at < cutoff,
    )
    doomed = list(conn.execute(select(tasks.c.id).where(old)).scalars())
    for start in range(0, len(doomed), 500):
        batch = doomed[start:start + 500]
        conn.execute(delete(task_info).where(task_info.c.task_id.in_(batch)))
        conn.execute(delete(tasks).where(tasks.c.id.in_(batch)))
