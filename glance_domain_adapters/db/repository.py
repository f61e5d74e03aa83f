"""``SqlImageRepository``: the domain's ``ImageRepository`` port over SQLAlchemy Core.

Design notes:

- Entities are mapped to rows explicitly (:mod:`.mapping`); no ORM session, no lazy loading.
- A listing is one SELECT on ``images`` (:mod:`.listing`) plus one query per child table for the
  whole page (properties, tags, locations): a constant number of statements per page.
- Writes run in one transaction. ``save`` first updates the ``images`` row with a
  compare-and-swap on ``status``; that UPDATE also takes the row lock, so child-row changes of
  concurrent saves of the same image are serialized and each applies only its own diff.
  Member changes lock the image row the same way. SQLite writers take the database write lock
  at BEGIN (see :mod:`.engine`).
- Deleting an image soft-deletes it and its child rows (as Glance does) and records its id in
  ``image_id_tombstones`` so it can never be added again, even after a purge.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import exc as sa_exc

from glance_domain import errors
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import Usage
from glance_domain.query import ImageQuery, ListScope
from glance_domain_adapters.db import listing, mapping
from glance_domain_adapters.db.engine import WRITE_OPTION
from glance_domain_adapters.db.errors import retry_on_deadlock, translated
from glance_domain_adapters.db.tables import (
    image_id_tombstones,
    image_locations,
    image_members,
    image_properties,
    image_tags,
    images,
)

_ID_LENGTH = 36
_NOT_COUNTED = ("killed", "pending_delete", "deleted")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def _prop_value(value: Any) -> str | None:
    return None if value is None else str(value)


class SqlImageRepository:
    """Images and members in a SQL database (SQLite, PostgreSQL, MariaDB/MySQL).

    ``clock`` returns the current UTC time (for ``updated_at``/``deleted_at``); it
    defaults to the system clock.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._clock = clock or _utcnow

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _now(self) -> dt.datetime:
        value = mapping.to_db_time(self._clock())
        assert value is not None
        return value

    # -- images -------------------------------------------------------------------------------

    @retry_on_deadlock()
    def add(self, image: Image) -> Image:
        if len(image.id) > _ID_LENGTH:
            raise errors.InvalidInput(f"Invalid image id: {image.id}")
        duplicate = errors.Duplicate(f"Image ID {image.id} already exists!")
        try:
            with self._write() as conn:
                taken = conn.execute(
                    select(literal(1)).where(
                        or_(
                            exists().where(image_id_tombstones.c.id == image.id),
                            exists().where(images.c.id == image.id),
                        )
                    )
                ).first()
                if taken is not None:
                    raise duplicate
                values = mapping.image_values(image)
                values["deleted"] = False
                conn.execute(images.insert().values(**values))
                created = values["created_at"]
                self._insert_properties(conn, image.id, image.extra_properties, created)
                self._insert_tags(conn, image.id, image.tags, created)
                self._insert_locations(conn, image.id, image.locations, created)
        except sa_exc.IntegrityError:
            raise duplicate from None
        return attrs.evolve(
            image,
            created_at=mapping.normalize_time(image.created_at),
            updated_at=mapping.normalize_time(image.updated_at),
        )

    def get(self, image_id: str) -> Image:
        with translated(), self._read() as conn:
            return self._get(conn, image_id)

    def _get(self, conn: Connection, image_id: str) -> Image:
        return self._hydrate(conn, [self._get_row(conn, image_id)])[0]

    @staticmethod
    def _get_row(conn: Connection, image_id: str) -> Any:
        """The live ``images`` row, or NotFound."""
        row = None
        if len(image_id) <= _ID_LENGTH:
            row = conn.execute(
                select(images).where(images.c.id == image_id, images.c.deleted == false())
            ).first()
        if row is None:
            raise errors.NotFound(f"No image found with ID {image_id}")
        return row

    def list(self, query: ImageQuery, scope: ListScope) -> builtins.list[Image]:
        with translated(), self._read() as conn:
            marker_values = None
            if query.marker is not None:
                marker_values = self._marker_values(conn, query, scope)
            stmt = listing.build_select(
                query, scope, dialect=self._dialect, marker_values=marker_values
            )
            rows = conn.execute(stmt).all()
            return self._hydrate(conn, rows)

    def _marker_values(
        self, conn: Connection, query: ImageQuery, scope: ListScope
    ) -> builtins.list[Any]:
        marker = query.marker
        assert marker is not None
        row = None
        if len(marker) <= _ID_LENGTH:
            visible = true() if scope.unrestricted else _visible_condition(scope)
            row = conn.execute(  # the marker and whether the caller may see it: one trip
                select(images, visible.label("gd_visible")).where(
                    images.c.id == marker, images.c.deleted == false()
                )
            ).first()
        if row is None:
            raise errors.InvalidInput(f"No image found with ID {marker}")
        if not row.gd_visible:
            raise errors.Forbidden(f"Forbidding request, image {marker} not visible")
        sort = listing.effective_sort(query.sort)
        return [listing.sort_value(k.key, getattr(row, k.key)) for k in sort]

    def _hydrate(self, conn: Connection, rows: Sequence[Any]) -> builtins.list[Image]:
        """Entities for ``images`` rows, loading their children in three queries in all."""
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

    @retry_on_deadlock()
    def save(self, before: Image, after: Image) -> Image:
        if before.id != after.id:
            raise errors.InvalidInput("An image's id cannot change.")
        with self._write() as conn:
            now = self._now()
            if after.updated_at != before.updated_at:
                now = mapping.to_db_time(after.updated_at) or now
            values = {
                name: getattr(after, name)
                for name in mapping.IMAGE_COLUMNS
                if name != "id" and getattr(after, name) != getattr(before, name)
            }
            values["updated_at"] = now
            result = conn.execute(
                images.update()
                .where(
                    images.c.id == before.id,
                    images.c.deleted == false(),
                    images.c.status == before.status,
                )
                .values(**values)
            )
            if result.rowcount == 0:
                current = conn.execute(
                    select(images.c.status).where(
                        images.c.id == before.id, images.c.deleted == false()
                    )
                ).first()
                if current is None:
                    raise errors.NotFound(f"No image found with ID {before.id}")
                raise errors.Conflict(
                    f"Image {before.id} status changed from {before.status} to "
                    f"{current.status} concurrently"
                )
            self._apply_properties(conn, before, after, now)
            self._apply_tags(conn, before, after, now)
            self._apply_locations(conn, before, after, now)
            return self._get(conn, before.id)

    @retry_on_deadlock()
    def remove(self, image: Image) -> Image:
        with self._write() as conn:
            now = self._now()
            result = conn.execute(
                images.update()
                .where(
                    images.c.id == image.id,
                    images.c.deleted == false(),
                    images.c.status == image.status,
                )
                .values(status="deleted", deleted=True, deleted_at=now, updated_at=now)
            )
            if result.rowcount == 0:
                current = conn.execute(
                    select(images.c.status).where(
                        images.c.id == image.id, images.c.deleted == false()
                    )
                ).first()
                if current is None:
                    raise errors.NotFound(f"No image found with ID {image.id}")
                raise errors.Conflict(
                    f"Image {image.id} status changed from {image.status} to "
                    f"{current.status} concurrently"
                )
            for table in (image_locations, image_properties, image_members, image_tags):
                conn.execute(
                    table.update()
                    .where(table.c.image_id == image.id, table.c.deleted == false())
                    .values(deleted=True, deleted_at=now)
                )
            conn.execute(image_id_tombstones.insert().values(id=image.id, deleted_at=now))
        return attrs.evolve(image, status="deleted", updated_at=now)

    @retry_on_deadlock()
    def set_property_atomic(
        self, image_id: str, name: str, value: str | None, *, expected: str | None
    ) -> None:
        """One conditional UPDATE (or INSERT against the unique (image_id, name) key), so
        of racing callers exactly one wins, on every database."""
        t = image_properties
        lost = errors.Conflict(f"Property {name} of image {image_id} is not {expected!r}.")
        try:
            with self._write() as conn:
                now = self._now()
                self._lock_image(conn, image_id)
                live = and_(t.c.image_id == image_id, t.c.name == name)
                if expected is None:
                    if value is None:
                        return
                    revived = conn.execute(  # a soft-deleted row of the same name
                        t.update().where(live, t.c.deleted == true())
                        .values(value=value, deleted=False, deleted_at=None, updated_at=now)
                    )
                    if revived.rowcount == 0:
                        conn.execute(t.insert().values(  # IntegrityError: it exists
                            image_id=image_id, name=name, value=value, created_at=now,
                            updated_at=now, deleted=False))
                    return
                values: dict[str, Any] = {"value": value, "updated_at": now}
                if value is None:
                    values = {"deleted": True, "deleted_at": now, "updated_at": now}
                changed = conn.execute(
                    t.update().where(live, t.c.deleted == false(), t.c.value == expected)
                    .values(**values)
                )
                if changed.rowcount == 0:
                    raise lost
        except sa_exc.IntegrityError:
            raise lost from None

    def usage(self, owner: str) -> Usage:
        with translated(), self._read() as conn:
            counted = and_(
                images.c.owner == owner,
                images.c.deleted == false(),
                images.c.status.not_in(_NOT_COUNTED),
            )
            count = conn.execute(select(func.count()).where(counted)).scalar_one()
            active_locations = (
                select(func.count())
                .where(
                    image_locations.c.image_id == images.c.id,
                    image_locations.c.deleted == false(),
                    image_locations.c.status != "deleted",
                )
                .scalar_subquery()
            )
            stored = conn.execute(
                select(func.coalesce(func.sum(images.c.size * active_locations), 0)).where(
                    counted, images.c.size > 0
                )
            ).scalar_one()
            importing = exists().where(
                image_properties.c.image_id == images.c.id,
                image_properties.c.name == "os_glance_importing_to_stores",
                image_properties.c.value != "",
                image_properties.c.deleted == false(),
            )
            staged = conn.execute(
                select(func.coalesce(func.sum(images.c.size), 0)).where(
                    images.c.owner == owner,
                    images.c.deleted == false(),
                    images.c.size > 0,
                    or_(
                        images.c.status.in_(("uploading", "importing")),
                        and_(
                            images.c.status.not_in(
                                ("uploading", "importing", *_NOT_COUNTED)
                            ),
                            importing,
                        ),
                    ),
                )
            ).scalar_one()
            return Usage(
                image_count=int(count), stored_bytes=int(stored), staged_bytes=int(staged)
            )

    # -- child rows ---------------------------------------------------------------------------

    @staticmethod
    def _insert_properties(
        conn: Connection, image_id: str, props: Mapping[str, Any], now: dt.datetime
    ) -> None:
        if props:
            conn.execute(
                image_properties.insert(),
                [
                    {"image_id": image_id, "name": k, "value": _prop_value(v),
                     "created_at": now, "updated_at": now, "deleted": False}
                    for k, v in props.items()
                ],
            )

    @staticmethod
    def _insert_tags(conn: Connection, image_id: str, tags: Any, now: dt.datetime) -> None:
        if tags:
            conn.execute(
                image_tags.insert(),
                [
                    {"image_id": image_id, "value": t, "created_at": now, "updated_at": now,
                     "deleted": False}
                    for t in sorted(tags)
                ],
            )

    @staticmethod
    def _insert_locations(
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

    def _apply_properties(
        self, conn: Connection, before: Image, after: Image, now: dt.datetime
    ) -> None:
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
                .values(value=_prop_value(value), deleted=False, deleted_at=None,
                        updated_at=now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    t.insert().values(image_id=after.id, name=name, value=_prop_value(value),
                                      created_at=now, updated_at=now, deleted=False)
                )

    def _apply_tags(self, conn: Connection, before: Image, after: Image, now: dt.datetime) -> None:
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
            self._insert_tags(conn, after.id, added - present, now)

    def _apply_locations(
        self, conn: Connection, before: Image, after: Image, now: dt.datetime
    ) -> None:
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
            self._delete_location_rows(conn, [r.id for r in rows], now)
            self._insert_locations(conn, after.id, after.locations, now)
            return
        by_url = {loc.url: loc for loc in after.locations}
        gone = [r.id for r in rows if r.value in set(old_urls) - set(new_urls)]
        self._delete_location_rows(conn, gone, now)
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
        self._insert_locations(conn, after.id, added, now)

    @staticmethod
    def _delete_location_rows(conn: Connection, ids: builtins.list[int], now: dt.datetime) -> None:
        if ids:
            t = image_locations
            conn.execute(
                t.update().where(t.c.id.in_(ids))
                .values(deleted=True, deleted_at=now, updated_at=now)
            )

    # -- members ------------------------------------------------------------------------------

    def _lock_image(self, conn: Connection, image_id: str) -> None:
        """Lock the image row (serializes member changes); NotFound if there is no image."""
        row = None
        if len(image_id) <= _ID_LENGTH:
            row = conn.execute(
                select(images.c.id)
                .where(images.c.id == image_id, images.c.deleted == false())
                .with_for_update()
            ).first()
        if row is None:
            raise errors.NotFound(f"No image found with ID {image_id}")

    @staticmethod
    def _active_member(image_id: str, member_id: str) -> Any:
        m = image_members.c
        return and_(m.image_id == image_id, m.member == member_id, m.deleted == false())

    def list_members(self, image_id: str) -> builtins.list[Member]:
        with translated(), self._read() as conn:
            rows = conn.execute(
                select(image_members)
                .join(images, images.c.id == image_members.c.image_id)
                .where(image_members.c.image_id == image_id,
                       image_members.c.deleted == false(), images.c.deleted == false())
                .order_by(image_members.c.created_at, image_members.c.id)
            ).all()
            if not rows:
                self._get_row(conn, image_id)
            return [mapping.member_from_row(r) for r in rows]

    def get_member(self, image_id: str, member_id: str) -> Member:
        with translated(), self._read() as conn:
            row = conn.execute(
                select(image_members).where(self._active_member(image_id, member_id))
            ).first()
            if row is None:
                raise errors.NotFound(
                    f"{member_id} not found in the member list of the image {image_id}."
                )
            return mapping.member_from_row(row)

    @retry_on_deadlock()
    def add_member(self, member: Member) -> Member:
        with self._write() as conn:
            self._lock_image(conn, member.image_id)
            existing = conn.execute(
                select(image_members.c.id)
                .where(self._active_member(member.image_id, member.member_id))
            ).first()
            if existing is not None:
                raise errors.Duplicate(
                    f"Member {member.member_id} is duplicated for image {member.image_id}"
                )
            created = mapping.to_db_time(member.created_at)
            updated = mapping.to_db_time(member.updated_at)
            conn.execute(
                image_members.insert().values(
                    image_id=member.image_id, member=member.member_id, can_share=False,
                    status=member.status, created_at=created, updated_at=updated,
                    deleted=False,
                )
            )
        return attrs.evolve(
            member,
            created_at=mapping.normalize_time(member.created_at),
            updated_at=mapping.normalize_time(member.updated_at),
        )

    @retry_on_deadlock()
    def save_member(self, member: Member) -> Member:
        with self._write() as conn:
            updated = mapping.to_db_time(member.updated_at)
            result = conn.execute(
                image_members.update()
                .where(self._active_member(member.image_id, member.member_id))
                .values(status=member.status, updated_at=updated)
            )
            if result.rowcount == 0:
                raise errors.NotFound(
                    f"{member.member_id} not found in the member list of the image "
                    f"{member.image_id}."
                )
            row = conn.execute(
                select(image_members).where(
                    self._active_member(member.image_id, member.member_id)
                )
            ).first()
            assert row is not None
            return mapping.member_from_row(row)

    @retry_on_deadlock()
    def remove_member(self, member: Member) -> None:
        with self._write() as conn:
            self._lock_image(conn, member.image_id)
            now = self._now()
            m = image_members.c
            # Glance's unique key is (image_id, member, deleted_at): drop older soft-deleted
            # rows of this membership so a quick re-add/remove cannot collide on it.
            conn.execute(
                image_members.delete().where(
                    m.image_id == member.image_id, m.member == member.member_id,
                    m.deleted == true(),
                )
            )
            result = conn.execute(
                image_members.update()
                .where(self._active_member(member.image_id, member.member_id))
                .values(deleted=True, deleted_at=now, updated_at=now)
            )
            if result.rowcount == 0:
                raise errors.NotFound(
                    f"{member.member_id} not found in the member list of the image "
                    f"{member.image_id}."
                )

    def member_status(self, image_id: str, member_id: str) -> str | None:
        with translated(), self._read() as conn:
            status = conn.execute(
                select(image_members.c.status).where(self._active_member(image_id, member_id))
            ).scalar()
            return None if status is None else str(status)


def _visible_condition(scope: ListScope) -> Any:
    """Glance's ``is_image_visible`` for the caller behind ``scope`` (used for markers).

    Visible: images without owner, public and community images, the caller's own images, and
    images the caller is a member of (whatever the membership status).
    """
    owners = sorted({c.owner for c in scope.clauses if c.owner is not None})
    members = sorted({c.member for c in scope.clauses if c.member is not None})
    parts: list[Any] = [images.c.owner.is_(None), images.c.visibility.in_(("public", "community"))]
    if owners:
        parts.append(images.c.owner.in_(owners))
    if members:
        parts.append(
            exists().where(
                image_members.c.image_id == images.c.id,
                image_members.c.member.in_(members),
                image_members.c.deleted == false(),
            )
        )
    return or_(*parts)
