#!/usr/bin/env python3
"""Listing and show latency of SqlImageRepository at 1k to 1M images, on each database.

    .venv/bin/python bench/bench_db.py                      # sqlite, postgresql, mariadb
    .venv/bin/python bench/bench_db.py --backends sqlite --sizes 1000,10000

Each image has 5 extra properties, 2 tags and 1 location; 100 owners; visibilities cycle
through public/private/shared/community and a quarter of the shared images have an accepted
member. Rows are bulk-inserted (Core executemany). For every size we time the listings clients
send most (see ``figures``: a regular user's first and deep page, show, name=, owner=,
visibility=, member_status=, tag=, a sort by name; an admin's first page and sort by size) and
print the median of ``--repeat`` runs in milliseconds, with each size's ratio to the smallest
size. The goal is a flat curve: every figure at 100k and 1M images within 2x of the 1k figure.
Databases are created with unique names on the local servers and dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glance_domain.context import RequestContext
from glance_domain.query import Filter, ImageQuery, ListScope, SortKey
from glance_domain.visibility import list_scope
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


USER = RequestContext(user_id="bench-user", project_id=PROJECT, roles=("member", "reader"))
ADMIN = RequestContext(user_id="bench-admin", project_id="admin", roles=("admin",),
                       is_admin=True)


def listing(context: RequestContext, **query: Any) -> tuple[ImageQuery, ListScope]:
    """A query and the scope the domain decides for it (as ``GET /v2/images`` builds them)."""
    image_query = ImageQuery(limit=25, **query)
    return image_query, list_scope(context, image_query)


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


def figures(size: int) -> dict[str, tuple[RequestContext, dict[str, Any] | str, int]]:
    """What is timed at ``size`` images: label -> (caller, query arguments or an id to show,
    the least number of rows the answer must hold, so a broken query cannot look fast)."""
    middle = size // 2
    middle -= middle % 4  # a public image, visible to the user
    return {
        "first page": (USER, {}, 25),
        "deep page": (USER, {"marker": deep_marker(size)}, 25),
        "show": (USER, str(uuid.UUID(int=middle + 1)), 1),
        "name=": (USER, {"filters": (Filter("name", "eq", f"image-{middle}"),)}, 1),
        "owner=": (USER, {"filters": (Filter("owner", "eq", PROJECT),)}, 1),
        "visibility=public": (USER, {"visibility": "public"}, 25),
        "visibility=shared": (USER, {"visibility": "shared"}, 1),
        "member_status=all": (USER, {"visibility": "shared", "member_status": "all"}, 1),
        "tag=": (USER, {"tags": ("group-4",)}, 25),
        "sort name asc": (USER, {"sort": (SortKey("name", "asc"),)}, 25),
        "admin first page": (ADMIN, {}, 25),
        "admin sort size": (ADMIN, {"sort": (SortKey("size", "desc"),)}, 25),
    }


def _show(repo: SqlImageRepository, image_id: str) -> int:
    return 1 if repo.get(image_id) is not None else 0


def _page(repo: SqlImageRepository, query: ImageQuery, scope: ListScope) -> int:
    return len(repo.list(query, scope))


def measure(repo: SqlImageRepository, size: int, repeat: int) -> dict[str, float]:
    """Median milliseconds of each figure at ``size`` images (each answer checked first)."""
    found = {}
    for label, (context, spec, least) in figures(size).items():
        call: Callable[[], int]
        if isinstance(spec, str):
            call = functools.partial(_show, repo, spec)
        else:
            call = functools.partial(_page, repo, *listing(context, **spec))
        got = call()
        if got < least:
            raise SystemExit(f"{label} at {size} images: {got} rows, expected >= {least}")
        found[label] = timed(call, repeat)
    return found


def run(backends: list[str], sizes: list[int],
        repeat: int) -> list[tuple[str, int, dict[str, float]]]:
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
                found = measure(repo, size, repeat)
                results.append((backend, size, found))
                shown = "  ".join(f"{k} {v:.2f}" for k, v in found.items())
                print(f"{backend:<10} {size:>8} images (seeded in {seconds:.1f} s): {shown}",
                      flush=True)
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
    labels = list(figures(max(sizes)))
    print("| database | images | " + " | ".join(labels) + " |")
    print("|---|---:|" + "---:|" * len(labels))
    smallest: dict[str, dict[str, float]] = {}
    for backend, size, found in results:
        base = smallest.setdefault(backend, found)
        cells = []
        for label in labels:
            ratio = found[label] / base[label] if base[label] else 0.0
            cells.append(f"{found[label]:.2f}" + ("" if base is found else f" ({ratio:.1f}x)"))
        print(f"| {backend} | {size:,} | " + " | ".join(cells) + " |")
    print("\nmilliseconds, median; (Nx) = against the smallest size of the same database")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
