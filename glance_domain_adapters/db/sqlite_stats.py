"""Planner statistics for SQLite databases that were never ANALYZEd.

SQLite chooses query plans from ``sqlite_stat1``. The embedded database never runs ANALYZE, and
without statistics SQLite guesses that every index is selective: it answers a listing's scope
(public OR own OR shared-with-me) by merging the visibility and owner indexes and sorting every
match (0.3 s for a first page of 10k images), and it searches the ``deleted`` boolean index for
memberships. SQLite's documentation allows an application to write ``sqlite_stat1`` itself; we
store the figures of a typical catalogue (100k images, 100 owners, a quarter public, 5
properties and 2 tags per image) so the planner walks ``(created_at, id)`` in order and stops
at the page size, at any table size. A real ANALYZE later replaces them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: table -> index -> "rows, rows per distinct value of each index prefix" (sqlite_stat1 format).
TYPICAL_STATISTICS: dict[str, dict[str, str]] = {
    "images": {
        "sqlite_autoindex_images_1": "100000 1",
        "checksum_image_idx": "100000 2",
        "visibility_image_idx": "100000 25000",
        "ix_images_deleted": "100000 100000",
        "owner_image_idx": "100000 1000",
        "created_at_image_idx": "100000 2",
        "updated_at_image_idx": "100000 2",
        "os_hidden_image_idx": "100000 100000",
        "os_hash_value_image_idx": "100000 2",
        "gd_images_created_at_id_idx": "100000 2 1",
        "gd_images_owner_created_at_id_idx": "100000 1000 2 1",
        "gd_images_visibility_created_at_id_idx": "100000 25000 2 1",
        "gd_images_name_created_at_id_idx": "100000 2 2 1",
        "gd_images_size_created_at_id_idx": "100000 10 2 1",
    },
    "image_properties": {
        "sqlite_autoindex_image_properties_1": "500000 5 1",
        "ix_image_properties_deleted": "500000 500000",
        "ix_image_properties_image_id": "500000 5",
    },
    "image_tags": {
        "ix_image_tags_image_id": "200000 2",
        "ix_image_tags_image_id_tag_value": "200000 2 1",
        "gd_image_tags_value_image_id_idx": "200000 1000 1",
    },
    "image_locations": {
        "ix_image_locations_deleted": "100000 100000",
        "ix_image_locations_image_id": "100000 1",
    },
    "image_members": {
        "sqlite_autoindex_image_members_1": "10000 2 1 1",
        "ix_image_members_deleted": "10000 10000",
        "ix_image_members_image_id": "10000 2",
        "ix_image_members_image_id_member": "10000 2 1",
        "gd_image_members_member_image_id_idx": "10000 100 1",
    },
}


def seed_planner_statistics(conn: Connection) -> bool:
    """Write the typical statistics unless ``images`` already has some; True if written."""
    conn.exec_driver_sql("ANALYZE sqlite_schema")  # creates sqlite_stat1 if missing
    present = conn.execute(
        text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'images'")
    ).scalar_one()
    if present:
        return False
    existing = {
        row[0]
        for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
    }
    for table, indexes in TYPICAL_STATISTICS.items():
        conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})
        for index, stat in indexes.items():
            if index in existing:
                conn.execute(
                    text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                    {"t": table, "i": index, "s": stat},
                )
    conn.exec_driver_sql("ANALYZE sqlite_schema")  # reload them into this connection
    return True
