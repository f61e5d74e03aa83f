"""Deleting a namespace while another transaction adds a child to it (PostgreSQL, MariaDB).

The delete removes the children, then the namespace. A child inserted by a transaction that
commits in between (its foreign-key check only share-locks the namespace row) used to make the
namespace delete fail with a foreign-key violation: a 500 for ``DELETE`` and, without the
violation, a namespace half emptied. The delete now locks the namespace row first, so it waits
for such a transaction and removes its child too. SQLite serializes writers: nothing to race.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text

from glance_domain.metadefs import Namespace, NamespaceContents
from glance_domain_adapters.db.metadef_tables import METADEF_TABLES, metadef_namespaces
from glance_domain_adapters.db.metadef_tables import metadef_properties as prop_t
from glance_domain_adapters.db.metadefs import SqlMetadefRepository
from tests.conftest import cached_engine

T0 = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)

_WAITING = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                  "AND datname = current_database()",
    # InnoDB lists a statement waiting for its first lock as running, not LOCK WAIT: count
    # the statements in progress in this database (the delete is the only one)
    "mariadb": "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() "
               "AND command = 'Query' AND id <> CONNECTION_ID()",
}


def _wait_until_blocked(engine: Engine, kind: str, done: threading.Event) -> None:
    """Return once a transaction waits on a lock (or the delete already returned)."""
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while not done.is_set() and time.monotonic() < deadline:
            if conn.execute(text(_WAITING[kind])).scalar():
                return
            conn.rollback()
            time.sleep(0.02)


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_namespace_delete_waits_for_a_child_being_added(
        kind: str, request: pytest.FixtureRequest) -> None:
    engine = cached_engine(str(request.getfixturevalue(f"{kind}_url")))
    with engine.begin() as conn:
        for table in METADEF_TABLES:
            conn.execute(delete(table))
    repo = SqlMetadefRepository(engine)
    repo.add_namespace(Namespace(namespace="RACE", owner="p1", visibility="public",
                                 created_at=T0, updated_at=T0), NamespaceContents())
    with engine.connect() as adder:
        ns_id = adder.execute(select(metadef_namespaces.c.id).where(
            metadef_namespaces.c.namespace == "RACE")).scalar_one()
        adder.execute(insert(prop_t).values(  # uncommitted: the FK check locks the row
            namespace_id=ns_id, name="late", json_schema="{}", created_at=T0))
        outcome: list[BaseException | None] = []
        done = threading.Event()

        def remove() -> None:
            try:
                repo.remove_namespace("RACE")
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=remove)
        worker.start()
        _wait_until_blocked(engine, kind, done)
        adder.commit()
    worker.join(120)
    assert outcome == [None], outcome
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(prop_t)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(metadef_namespaces)).scalar() == 0
