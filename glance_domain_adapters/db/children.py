"""An image's child rows (properties, tags, locations): batched reads and diff writes.

Reads load the children of a whole page of images in a constant number of queries
(:func:`hydrate`). Writes insert the children of a new image, or apply only the difference
between two versions of an image, soft-deleting what went away (as Glance does). Every function
runs inside a transaction of :class:`~.repository.SqlImageRepository`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, false, literal, null, select, true, union_all

from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain_adapters.db import mapping
from glance_domain_adapters.db.tables import image_locations, image_properties, image_tags


def _children_statements(id_match: Callable[[Any], Any]) -> tuple[Any, Any]:
    """(properties + tags, locations) SELECTs for the image ids matched by ``id_match``.

    Built once at import: these run for every image shown or listed, and building and
    caching a statement per call costs more than running it. Properties and tags come in one
    UNION ALL (``kind`` 0 = property, 1 = tag) to save a round trip. ``deleted IS NOT true``
    (the column is NOT NULL) keeps SQLite, which has no ANALYZE statistics by default, on the
    image_id index instead of the boolean ``deleted`` index that matches nearly every row.
    """
    props = image_properties.c
    tags_ = image_tags.c
    prop_rows = select(props.image_id, literal(0).label("kind"), props.name, props.value).where(
        id_match(props.image_id), props.deleted.is_not(true())
    )
    tag_rows = select(tags_.image_id, literal(1).label("kind"), tags_.value, null()).where(
        id_match(tags_.image_id), tags_.deleted.is_not(true())
    )
    locations = (
        select(image_locations)
        .where(id_match(image_locations.c.image_id), image_locations.c.deleted.is_not(true()))
        .order_by(image_locations.c.id)
    )
    return union_all(prop_rows, tag_rows), locations


_CHILDREN_OF_ONE = _children_statements(lambda col: col == bindparam("id"))
_CHILDREN_OF_MANY = _children_statements(lambda col: col.in_(bindparam("ids", expanding=True)))


def prop_value(value: Any) -> str | None:
    """A property value as stored (text), keeping None."""
    return None if value is None else str(value)


def hydrate(conn: Connection, rows: Sequence[Any]) -> list[Image]:
    """Entities for ``images`` rows, loading their children in two queries in all."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    props: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    tags: dict[str, list[str]] = defaultdict(list)
    locs: dict[str, list[Location]] = defaultdict(list)
    if len(ids) == 1:
        (children, locations), params = _CHILDREN_OF_ONE, {"id": ids[0]}
    else:
        (children, locations), params = _CHILDREN_OF_MANY, {"ids": ids}
    for image_id, kind, name, value in conn.execute(children, params).all():
        if kind:
            tags[image_id].append(name)
        else:
            props[image_id].append((name, value))
    for loc in conn.execute(locations, params).all():
        locs[loc.image_id].append(mapping.location_from_row(loc))
    return [
        mapping.image_from_row(
            r, properties=props[r.id], tags=tags[r.id], locations=locs[r.id]
        )
        for r in rows
    ]


# -- inserting the children of a new image -----------------------------------------------------


def insert_properties(
    conn: Connection, image_id: str, props: Mapping[str, Any], now: dt.datetime
) -> None:
    if props:
        conn.execute(
            image_properties.insert(),
            [
                {"image_id": image_id, "name": k, "value": prop_value(v),
                 "created_at": now, "updated_at": now, "deleted": False}
                for k, v in props.items()
            ],
        )


def insert_tags(conn: Connection, image_id: str, tags: Any, now: dt.datetime) -> None:
    if tags:
        conn.execute(
            image_tags.insert(),
            [
                {"image_id": image_id, "value": t, "created_at": now, "updated_at": now,
                 "deleted": False}
                for t in sorted(tags)
            ],
        )


def insert_locations(
    conn: Connection, image_id: str, locations: Sequence[Location], now: dt.datetime
) -> None:
    # One row at a time: the autoincrement id keeps the priority order.
    for loc in locations:
        conn.execute(
            image_locations.insert().values(
                image_id=image_id, value=loc.url,
                meta_data=mapping.encode_metadata(loc.metadata), status=loc.status,
                created_at=now, updated_at=now, deleted=False,
            )
        )


# -- applying the difference between two versions of an image ----------------------------------


def apply_children(conn: Connection, before: Image, after: Image, now: dt.datetime) -> None:
    """Write the property, tag and location changes from ``before`` to ``after``."""
    _apply_properties(conn, before, after, now)
    _apply_tags(conn, before, after, now)
    _apply_locations(conn, before, after, now)


def _apply_properties(conn: Connection, before: Image, after: Image, now: dt.datetime) -> None:
    old, new = before.extra_properties, after.extra_properties
    t = image_properties
    for name in old.keys() - new.keys():
        conn.execute(
            t.update()
            .where(t.c.image_id == after.id, t.c.name == name, t.c.deleted == false())
            .values(deleted=True, deleted_at=now, updated_at=now)
        )
    for name, value in new.items():
        if name in old and old[name] == value:
            continue
        # Glance's unique (image_id, name): revive a soft-deleted row, else insert.
        updated = conn.execute(
            t.update()
            .where(t.c.image_id == after.id, t.c.name == name)
            .values(value=prop_value(value), deleted=False, deleted_at=None,
                    updated_at=now)
        )
        if updated.rowcount == 0:
            conn.execute(
                t.insert().values(image_id=after.id, name=name, value=prop_value(value),
                                  created_at=now, updated_at=now, deleted=False)
            )


def _apply_tags(conn: Connection, before: Image, after: Image, now: dt.datetime) -> None:
    t = image_tags
    removed = before.tags - after.tags
    if removed:
        conn.execute(
            t.update()
            .where(t.c.image_id == after.id, t.c.value.in_(sorted(removed)),
                   t.c.deleted == false())
            .values(deleted=True, deleted_at=now, updated_at=now)
        )
    added = after.tags - before.tags
    if added:
        present = set(
            conn.execute(
                select(t.c.value).where(t.c.image_id == after.id, t.c.value.in_(sorted(added)),
                                        t.c.deleted == false())
            ).scalars()
        )
        insert_tags(conn, after.id, added - present, now)


def _apply_locations(conn: Connection, before: Image, after: Image, now: dt.datetime) -> None:
    if before.locations == after.locations:
        return
    t = image_locations
    rows = conn.execute(
        select(t.c.id, t.c.value, t.c.meta_data, t.c.status)
        .where(t.c.image_id == after.id, t.c.deleted == false())
        .order_by(t.c.id)
    ).all()
    old_urls = [loc.url for loc in before.locations]
    new_urls = [loc.url for loc in after.locations]
    kept = [u for u in new_urls if u in old_urls]
    reordered = kept != [u for u in old_urls if u in new_urls]
    if reordered:
        # The order is the priority: rewrite the whole list.
        _delete_location_rows(conn, [r.id for r in rows], now)
        insert_locations(conn, after.id, after.locations, now)
        return
    by_url = {loc.url: loc for loc in after.locations}
    gone = [r.id for r in rows if r.value in set(old_urls) - set(new_urls)]
    _delete_location_rows(conn, gone, now)
    for row in rows:
        loc = by_url.get(row.value)
        if loc is None:
            continue
        meta = mapping.encode_metadata(loc.metadata)
        if meta != row.meta_data or loc.status != row.status:
            conn.execute(
                t.update().where(t.c.id == row.id)
                .values(meta_data=meta, status=loc.status, updated_at=now)
            )
    present = {r.value for r in rows}
    added = [loc for loc in after.locations if loc.url not in old_urls
             and loc.url not in present]
    insert_locations(conn, after.id, added, now)


def _delete_location_rows(conn: Connection, ids: list[int], now: dt.datetime) -> None:
    if ids:
        t = image_locations
        conn.execute(
            t.update().where(t.c.id.in_(ids))
            .values(deleted=True, deleted_at=now, updated_at=now)
        )
