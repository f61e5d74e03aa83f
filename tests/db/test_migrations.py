"""Migrations (upgrade, version, adopting a Glance database) and purge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, func, inspect, select

from glance_domain import errors
from glance_domain.model.member import Member
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import (
    image_id_tombstones,
    image_members,
    image_properties,
    image_tags,
    images,
    metadata,
)


def test_fresh_database_is_upgraded_to_head(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'g.sqlite'}"
    assert migrate.current_version(url) is None
    assert migrate.upgrade(url) == migrate.head_version()
    assert migrate.current_version(url) == migrate.head_version()
    assert migrate.upgrade(url) == migrate.head_version()  # idempotent
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"images", "image_properties", "image_tags", "image_locations", "image_members",
            "image_id_tombstones", "glance_domain_alembic_version"} <= tables
    engine.dispose()


def test_migrated_schema_matches_the_table_definitions(db_engine: Engine) -> None:
    inspector = inspect(db_engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.c.keys()), table.name
        indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
        assert {ix.name for ix in table.indexes} <= indexes, table.name


def test_an_existing_glance_database_is_adopted(tmp_path: Any) -> None:
    """Glance's tables (without our indexes and tombstones) keep their rows and get ours."""
    url = f"sqlite:///{tmp_path / 'glance.sqlite'}"
    engine = make_engine(url)
    glance_only = MetaData()
    for table in (images, image_properties, image_tags, image_members):
        copy = table.to_metadata(glance_only)
        for index in list(copy.indexes):
            if index.name and index.name.startswith("gd_"):
                copy.indexes.discard(index)
    glance_only.create_all(engine)
    now = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:
        conn.execute(images.insert().values(
            id="11111111-1111-1111-1111-111111111111", name="old", status="active",
            visibility="public", created_at=now, updated_at=now, deleted=False, min_disk=0,
            min_ram=0, protected=False, os_hidden=False))
    migrate.upgrade(url)
    names = {ix["name"] for ix in inspect(engine).get_indexes("images")}
    assert "gd_images_owner_created_at_id_idx" in names
    assert SqlImageRepository(engine).get("11111111-1111-1111-1111-111111111111").name == "old"
    engine.dispose()


def _count(engine: Engine, table: Any, **where: Any) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(table)
        for key, value in where.items():
            stmt = stmt.where(table.c[key] == value)
        return int(conn.execute(stmt).scalar_one())


def test_purge_hard_deletes_old_rows_and_keeps_tombstones(
    db_engine: Engine, make_image: Any
) -> None:
    long_ago = dt.datetime(2020, 1, 1)
    old_repo = SqlImageRepository(db_engine, clock=lambda: long_ago)
    repo = SqlImageRepository(db_engine)
    old = old_repo.add(make_image(tags={"t"}, extra_properties={"p": "1"}, visibility="shared"))
    old_repo.add_member(Member(image_id=old.id, member_id="m", status="pending",
                               created_at=long_ago, updated_at=long_ago))
    old_repo.remove(old)
    recent = repo.add(make_image())
    repo.remove(recent)
    live = old_repo.add(make_image(extra_properties={"gone": "1", "kept": "2"}))
    old_repo.save(live, _without(live, "gone"))

    assert migrate.purge(db_engine, 30) == 1

    assert _count(db_engine, images, id=old.id) == 0
    assert _count(db_engine, image_tags, image_id=old.id) == 0
    assert _count(db_engine, image_members, image_id=old.id) == 0
    assert _count(db_engine, images, id=recent.id) == 1  # deleted too recently
    assert _count(db_engine, image_properties, image_id=live.id) == 1  # soft-deleted row gone
    assert _count(db_engine, image_id_tombstones) == 2
    with pytest.raises(errors.Duplicate):
        repo.add(make_image(id=old.id))
    assert dict(repo.get(live.id).extra_properties) == {"kept": "2"}


def test_purge_records_tombstones_of_rows_deleted_by_glance(db_engine: Engine,
                                                            make_image: Any) -> None:
    repo = SqlImageRepository(db_engine)
    image = repo.add(make_image())
    with db_engine.begin() as conn:  # a soft delete as Glance does it: no tombstone
        conn.execute(images.update().where(images.c.id == image.id).values(
            deleted=True, deleted_at=dt.datetime(2020, 1, 1), status="deleted"))
    migrate.purge(db_engine, 1)
    assert _count(db_engine, images, id=image.id) == 0
    with pytest.raises(errors.Duplicate):
        repo.add(make_image(id=image.id))


def test_purge_rejects_a_negative_age(db_engine: Engine) -> None:
    with pytest.raises(errors.InvalidInput):
        migrate.purge(db_engine, -1)


def _without(image: Any, key: str) -> Any:
    import attrs

    props = {k: v for k, v in image.extra_properties.items() if k != key}
    return attrs.evolve(image, extra_properties=props)
