"""Shared fixtures: one migrated database per backend per test session.

- ``sqlite_url`` / ``postgresql_url`` / ``mariadb_url``: a uniquely named database, created and
  migrated once per session (per xdist worker) and dropped at the end. Servers: PostgreSQL on
  127.0.0.1:5432 (user postgres), MariaDB on 127.0.0.1:3306 (root); override the admin URLs with
  ``GD_TEST_POSTGRESQL_URL`` / ``GD_TEST_MARIADB_URL``. A server that cannot be reached skips the
  test with the reason, or fails it when ``CI=true``.
- ``db_url`` is parametrized over the three backends; ``db_engine`` is that backend's engine
  with every table emptied before the test; ``sql_repository`` a ``SqlImageRepository`` on it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.engine import make_url

from glance_domain.model.image import Image
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import ALL_TABLES

SQL_BACKENDS = ("sqlite", "postgresql", "mariadb")

POSTGRESQL_ADMIN_URL = os.environ.get(
    "GD_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get(
    "GD_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"
)


def unavailable(reason: str) -> None:
    """Skip (or, under CI=true, fail) a test whose service is missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _unique_name() -> str:
    return f"gd_test_{uuid.uuid4().hex[:16]}"


def _admin_engine(url: str, what: str) -> Engine:
    engine = create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        unavailable(f"{what} is not reachable at {make_url(url).render_as_string()}: {exc}")
    return engine


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("sqlite") / "glance.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    yield url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    admin = _admin_engine(POSTGRESQL_ADMIN_URL, "PostgreSQL")
    name = _unique_name()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRESQL_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _dispose_cached(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    admin = _admin_engine(MARIADB_ADMIN_URL, "MariaDB")
    name = _unique_name()
    with admin.connect() as conn:
        conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        )
    url = make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _dispose_cached(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


_ENGINES: dict[str, Engine] = {}


def cached_engine(url: str) -> Engine:
    """One engine per database URL for the session (connections are reused across tests)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    return engine


def _dispose_cached(url: str) -> None:
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row of our tables (children first)."""
    with engine.begin() as conn:
        for table in ALL_TABLES:
            conn.execute(delete(table))


@pytest.fixture(params=SQL_BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per SQL backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def db_engine(db_url: str) -> Engine:
    """The backend's engine, with empty tables."""
    engine = cached_engine(db_url)
    empty_tables(engine)
    return engine


@pytest.fixture
def fresh_engine(request: pytest.FixtureRequest) -> Callable[[str], Engine]:
    """``fresh_engine(backend)``: that backend's engine with empty tables (for custom params)."""

    def get(backend: str) -> Engine:
        engine = cached_engine(str(request.getfixturevalue(f"{backend}_url")))
        empty_tables(engine)
        return engine

    return get


@pytest.fixture
def sql_repository(db_engine: Engine) -> SqlImageRepository:
    return SqlImageRepository(db_engine)


class ImageFactory:
    """Builds Image entities with unique ids and strictly increasing, whole-second timestamps."""

    def __init__(self) -> None:
        import datetime as dt

        self._next = dt.datetime(2024, 1, 1, 12, 0, 0)
        self._step = dt.timedelta(seconds=1)

    def __call__(self, **kwargs: object) -> Image:
        created = kwargs.pop("created_at", None) or self._next
        self._next = self._next + self._step
        values: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "name": "image",
            "owner": "project-a",
            "created_at": created,
            "updated_at": kwargs.pop("updated_at", None) or created,
        }
        values.update(kwargs)
        return Image(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_image() -> ImageFactory:
    return ImageFactory()


@pytest.fixture(scope="session", autouse=True)
def _remove_upload_flag_files() -> Iterator[None]:
    """Every data directory the file store writes to gets a small lock file in this user's
    private temporary directory (``cache_warmer.BusyFlag``); remove the ones this session's many
    data directories left there."""
    import glob
    import tempfile

    pattern = os.path.join(tempfile.gettempdir(), f"glance-domain-{os.getuid()}", "uploads-*.lock")
    before = set(glob.glob(pattern))
    yield
    for path in set(glob.glob(pattern)) - before:
        try:
            os.unlink(path)
        except OSError:
            pass
