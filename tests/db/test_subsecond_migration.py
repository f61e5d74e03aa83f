"""Migration 0003: MariaDB/MySQL timestamp columns hold microseconds (DATETIME(6))."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import cached_engine


def test_mariadb_timestamps_have_microsecond_precision(mariadb_url: str) -> None:
    engine = cached_engine(mariadb_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, column_name, datetime_precision FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND data_type = 'datetime'"
            " AND table_name IN ('images', 'image_properties', 'image_tags', 'image_locations',"
            " 'image_members', 'image_id_tombstones')"
        )).all()
    assert len(rows) == 16
    assert {(r[0], r[1]) for r in rows if r[2] != 6} == set()
