#!/usr/bin/env python3
"""Listing latency of SqlImageRepository at 1k, 10k and 100k images, on each database.

    .venv/bin/python bench/bench_db.py                      # sqlite, postgresql, mariadb
    .venv/bin/python bench/bench_db.py --backends sqlite --sizes 1000,10000

Each image has 5 extra properties, 2 tags and 1 location; 100 owners; visibilities cycle
through public/private/shared/community and a quarter of the shared images have an accepted
member. Rows are bulk-inserted (Core executemany). For every size we time, as a regular user of
one project (Glance's default listing: public + own + accepted shares, 25 per page, newest
first), the first page and a deep page (marker 90% of the way down), and print the median of
``--repeat`` runs in milliseconds. The goal is a flat curve: the 100k page within 2x of the 1k
page. Databases are created with unique names on the local servers and dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glance_domain.query import ImageQuery, ListScope, ScopeClause
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import (
    image_locations,
    image_members,
    image_properties,
    image_tags,
    images,
)

SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4",
}
OWNERS = 100
VISIBILITIES = ("public", "private", "shared", "community")
BASE = dt.datetime(2020, 1, 1)
PROJECT = "project-7"


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh, migrated database URL for ``backend``; dropped on exit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite"
            migrate.upgrade(url)
            yield url
        return
    admin_url = SERVERS[backend]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"gd_bench_{uuid.uuid4().hex[:12]}"
    q = '"' if backend == "postgresql" else "`"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {q}{name}{q}"))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {q}{name}{q}{force}"))
        admin.dispose()


def seed(engine: Engine, start: int, stop: int) -> None:
    """Bulk-insert images number ``start`` .. ``stop - 1`` with their child rows."""
    batch = 5000
    for lo in range(start, stop, batch):
        rows, props, tags, locs, members = [], [], [], [], []
        for n in range(lo, min(stop, lo + batch)):
            image_id = str(uuid.UUID(int=n + 1))
            created = BASE + dt.timedelta(seconds=n)
            common = {"created_at": created, "updated_at": created, "deleted": False}
            visibility = VISIBILITIES[n % 4]
            rows.append({
                "id": image_id, "name": f"image-{n}", "status": "active", "size": n * 1024,
                "visibility": visibility, "owner": f"project-{n % OWNERS}", "min_disk": 0,
                "min_ram": 0, "protected": False, "os_hidden": False, "disk_format": "qcow2",
                "container_format": "bare", "checksum": f"{n:032x}", **common,
            })
            props.extend(
                {"image_id": image_id, "name": f"prop_{k}", "value": f"value-{n % (k + 3)}",
                 **common}
                for k in range(5)
            )
            tags.extend({"image_id": image_id, "value": t, **common}
                        for t in ("bench", f"group-{n % 10}"))
            locs.append({"image_id": image_id, "value": f"file:///var/lib/images/{image_id}",
                         "meta_data": '{"store": "default"}', "status": "active", **common})
            if visibility == "shared" and n % 16 == 2:
                members.append({"image_id": image_id, "member": f"project-{(n + 5) % OWNERS}",
                                "status": "accepted", "can_share": False, **common})
        with engine.begin() as conn:
            for table, data in ((images, rows), (image_properties, props), (image_tags, tags),
                                (image_locations, locs), (image_members, members)):
                if data:
                    conn.execute(table.insert(), data)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        elif engine.dialect.name == "mysql":
            for table in ("images", "image_properties", "image_tags", "image_locations",
                          "image_members"):
                conn.execute(text(f"ANALYZE TABLE {table}"))
        # SQLite: no ANALYZE, as the embedded default database never runs it.


def user_scope() -> ListScope:
    """A regular user's default listing scope (what the domain's list_scope produces)."""
    return ListScope(clauses=(
        ScopeClause(visibilities=frozenset({"public"})),
        ScopeClause(owner=PROJECT),
        ScopeClause(member=PROJECT, member_statuses=frozenset({"accepted"}),
                    visibilities=frozenset({"shared"})),
    ))


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches and the pool
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def deep_marker(size: int) -> str:
    """A public image 90% of the way down the newest-first listing."""
    n = size // 10
    n -= n % 4  # public images are n % 4 == 0
    return str(uuid.UUID(int=n + 1))


def run(backends: list[str], sizes: list[int], repeat: int) -> list[tuple[str, int, float, float]]:
    results = []
    for backend in backends:
        with database(backend) as url:
            engine = make_engine(url)
            repo = SqlImageRepository(engine)
            seeded = 0
            for size in sorted(sizes):
                t0 = time.perf_counter()
                seed(engine, seeded, size)
                seeded = size
                seconds = time.perf_counter() - t0
                scope = user_scope()
                first = ImageQuery(limit=25)
                deep = ImageQuery(limit=25, marker=deep_marker(size))
                assert len(repo.list(first, scope)) == 25
                assert len(repo.list(deep, scope)) == 25
                first_ms = timed(lambda q=first, r=repo, s=scope: r.list(q, s), repeat)
                deep_ms = timed(lambda q=deep, r=repo, s=scope: r.list(q, s), repeat)
                results.append((backend, size, first_ms, deep_ms))
                print(f"{backend:<10} {size:>7} images  first page {first_ms:7.2f} ms  "
                      f"deep page {deep_ms:7.2f} ms  (seeded in {seconds:.1f} s)", flush=True)
            engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sizes = [int(s) for s in args.sizes.split(",")]
    results = run(backends, sizes, args.repeat)
    print()
    print("| database | images | first page (ms) | deep page (ms) |")
    print("|---|---:|---:|---:|")
    for backend, size, first_ms, deep_ms in results:
        print(f"| {backend} | {size:,} | {first_ms:.2f} | {deep_ms:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
