"""Listing is index-backed and loads a page in a constant number of statements."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from glance_domain.query import ImageQuery, ListScope, ScopeClause
from glance_domain_adapters.db import listing
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import (
    image_locations,
    image_members,
    image_properties,
    image_tags,
    images,
)


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SET")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def seed(engine: Engine, count: int, *, owners: int = 100) -> list[str]:
    """Bulk-insert ``count`` images with 5 properties, 2 tags, 1 location, some members."""
    base = dt.datetime(2024, 1, 1)
    visibilities = ("public", "private", "shared", "community")
    rows, props, tags, locs, members = [], [], [], [], []
    for n in range(count):
        image_id = str(uuid.UUID(int=n + 1))
        created = base + dt.timedelta(seconds=n)
        common = {"created_at": created, "updated_at": created, "deleted": False}
        rows.append({
            "id": image_id, "name": f"image-{n}", "status": "active", "size": n,
            "visibility": visibilities[n % 4], "owner": f"project-{n % owners}",
            "min_disk": 0, "min_ram": 0, "protected": False, "os_hidden": n % 50 == 0,
            "disk_format": "qcow2", "container_format": "bare", **common,
        })
        props.extend({"image_id": image_id, "name": f"prop{k}", "value": str(n % 7), **common}
                     for k in range(5))
        tags.extend({"image_id": image_id, "value": t, **common} for t in ("tag-a", f"t{n % 9}"))
        locs.append({"image_id": image_id, "value": f"file:///images/{image_id}",
                     "meta_data": "{}", "status": "active", **common})
        if n % 4 == 2:
            members.append({"image_id": image_id, "member": f"project-{(n + 1) % owners}",
                            "status": "accepted", "can_share": False, **common})
    with engine.begin() as conn:
        for table, data in ((images, rows), (image_properties, props), (image_tags, tags),
                            (image_locations, locs), (image_members, members)):
            for start in range(0, len(data), 5000):
                conn.execute(table.insert(), data[start:start + 5000])
    return [r["id"] for r in rows]


def user_scope(project: str) -> ListScope:
    """What the domain hands over for a regular user's default listing."""
    return ListScope(clauses=(
        ScopeClause(visibilities=frozenset({"public"})),
        ScopeClause(owner=project),
        ScopeClause(member=project, member_statuses=frozenset({"accepted"}),
                    visibilities=frozenset({"shared"})),
    ))


def test_a_page_loads_in_a_constant_number_of_statements(db_engine: Engine) -> None:
    seed(db_engine, 60, owners=3)
    repo = SqlImageRepository(db_engine)
    counts = []
    for limit in (1, 5, 50):
        with counting(db_engine) as statements:
            page = repo.list(ImageQuery(limit=limit, os_hidden=None), ListScope(unrestricted=True))
        assert len(page) == limit
        assert all(len(i.extra_properties) == 5 and len(i.tags) == 2 and len(i.locations) == 1
                   for i in page)
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2] <= 4
    marker = page[10].id
    with counting(db_engine) as statements:
        repo.list(ImageQuery(limit=20, marker=marker), user_scope("project-1"))
    assert len(statements) <= 6


def _explain_sql(engine: Engine, query: ImageQuery, scope: ListScope, marker: Any) -> str:
    stmt = listing.build_select(query, scope, dialect=engine.dialect.name, marker_values=marker)
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


COMMON_QUERIES = {
    "default": ImageQuery(),
    "private": ImageQuery(visibility="private"),
    "tag": ImageQuery(tags=("t3",)),
    "status": ImageQuery(filters=(listing.Filter("status", "eq", "active"),)),
}


#: Listings whose matches are dense: they must be read in index order, stopping at the limit.
ORDERED = ("default", "status")


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_listing_does_not_scan_the_images_table(fresh_engine: Any, backend: str) -> None:
    """EXPLAIN of the common listings (first and deep page) on a seeded, analyzed table."""
    engine = fresh_engine(backend)
    ids = seed(engine, 4000)
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            for table in ("images", "image_properties", "image_tags", "image_members"):
                conn.execute(text(f"ANALYZE TABLE {table}"))
    deep_marker = [dt.datetime(2024, 1, 1) + dt.timedelta(seconds=1000), ids[1000]]
    for name, query in COMMON_QUERIES.items():
        scope = user_scope("project-7")
        if query.visibility == "private":
            scope = ListScope(clauses=(ScopeClause(owner="project-7"),), visibility="private")
        for marker in (None, deep_marker):
            plan = explain(engine, query, scope, marker)
            if backend == "postgresql":
                assert "Seq Scan on images" not in plan, f"{name}:\n{plan}"
            else:
                assert "images ALL" not in plan, f"{name}:\n{plan}"
            if name in ORDERED:  # walks an index in sort order: no sort of all matches
                sorts = ("Sort Key",) if backend == "postgresql" else ("filesort", "index_merge")
                assert not any(word in plan for word in sorts), f"{name}:\n{plan}"


def explain(engine: Engine, query: ImageQuery, scope: ListScope, marker: Any) -> str:
    """The plan as text; for MariaDB one "table type key" line per row of EXPLAIN."""
    stmt = listing.build_select(query, scope, dialect=engine.dialect.name, marker_values=marker)
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
        rows = conn.exec_driver_sql("EXPLAIN " + sql).mappings().all()
        return "\n".join(f"{r['table']} {r['type']} {r['key']} {r['Extra']}" for r in rows)


def test_sqlite_plans_from_typical_statistics(sqlite_url: str, fresh_engine: Any) -> None:
    """Never ANALYZEd, a migrated SQLite database still walks (created_at, id) in order."""
    engine = fresh_engine("sqlite")
    seed(engine, 300)
    for name, query in COMMON_QUERIES.items():
        if name not in ORDERED:
            continue
        for marker in (None, [dt.datetime(2024, 1, 1, 0, 1), str(uuid.UUID(int=61))]):
            stmt = listing.build_select(query, user_scope("project-7"), dialect="sqlite",
                                        marker_values=marker)
            sql = str(stmt.compile(dialect=engine.dialect,
                                   compile_kwargs={"literal_binds": True}))
            with engine.connect() as conn:
                plan = "\n".join(str(r[-1]) for r in
                                 conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "gd_images_created_at_id_idx" in plan, plan
            assert "TEMP B-TREE" not in plan and "MULTI-INDEX OR" not in plan, plan
            assert "ix_image_members_deleted" not in plan, plan


def test_real_statistics_are_not_overwritten(tmp_path: Any) -> None:
    from glance_domain_adapters.db import migrate
    from glance_domain_adapters.db.engine import make_engine

    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sqlite_stat1 SET stat = '7 7' WHERE idx = 'owner_image_idx'"))
    migrate.upgrade(url)
    with engine.connect() as conn:
        stat = conn.execute(text(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'owner_image_idx'")).scalar_one()
    assert stat == "7 7"
    engine.dispose()


#: Listings the 0006 indexes serve: each reads one page in index order, whatever the table size.
INDEXED_QUERIES = {
    "name=": (ImageQuery(filters=(listing.Filter("name", "eq", "image-2000"),)),
              "gd_images_name_created_at_id_idx"),
    "sort name asc": (ImageQuery(sort=(listing.SortKey("name", "asc"),)),
                      "gd_images_name_created_at_id_idx"),
    "sort name desc": (ImageQuery(sort=(listing.SortKey("name", "desc"),)),
                       "gd_images_name_created_at_id_idx"),
    "sort size desc": (ImageQuery(sort=(listing.SortKey("size", "desc"),)),
                       "gd_images_size_created_at_id_idx"),
    "sort size asc": (ImageQuery(sort=(listing.SortKey("size", "asc"),)),
                      "gd_images_size_created_at_id_idx"),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_name_filter_and_name_or_size_sorts_read_one_index_in_order(
        fresh_engine: Any, backend: str) -> None:
    """``name=`` and sorting by name or size use the 0006 indexes, with no sort of all matches
    (on PostgreSQL that needs NULLs first in the index: the listing's NULL order)."""
    engine = fresh_engine(backend)
    seed(engine, 4000)
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("ANALYZE"))
        elif backend == "mariadb":
            for table in ("images", "image_properties", "image_tags", "image_members"):
                conn.execute(text(f"ANALYZE TABLE {table}"))
    admin = ListScope(clauses=(ScopeClause(visibilities=frozenset(
        {"private", "public", "shared"})),), admin=True)
    for name, (query, index) in INDEXED_QUERIES.items():
        scope = user_scope("project-7") if name == "name=" else admin
        if backend == "sqlite":
            sql = _explain_sql(engine, query, scope, None)
            with engine.connect() as conn:
                plan = "\n".join(str(r[-1]) for r in
                                 conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert index in plan and "TEMP B-TREE" not in plan, f"{name}:\n{plan}"
            continue
        plan = explain(engine, query, scope, None)
        assert index in plan, f"{name}:\n{plan}"
        sorts = ("Sort Key",) if backend == "postgresql" else ("filesort", "index_merge")
        assert not any(word in plan for word in sorts), f"{name}:\n{plan}"


def test_postgresql_sessions_run_without_jit(postgresql_url: str) -> None:
    """A listing over a large table passes jit_above_cost, and JIT compiling its expressions
    cost tens of milliseconds per request: the service's PostgreSQL sessions turn it off."""
    from glance_domain_adapters.db.engine import make_engine

    engine = make_engine(postgresql_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
    finally:
        engine.dispose()
