"""``SqlImageRepository``: the domain's ``ImageRepository`` port over SQLAlchemy Core.

This module owns connections, transactions and deadlock retries, and the ``images`` row
writes; the rest lives in modules with one job each:

- :mod:`.mapping` maps entities to rows explicitly (no ORM session, no lazy loading);
- :mod:`.listing` builds a listing's single SELECT on ``images``;
- :mod:`.children` loads the child rows (properties, tags, locations) of a whole page in a
  constant number of queries, and writes their changes;
- :mod:`.members` holds the membership operations, :mod:`.usage` the quota figures and
  :mod:`.lookup` the live-row lookups they share.

Writes run in one transaction. ``save`` first updates the ``images`` row with a
compare-and-swap on ``status``; that UPDATE also takes the row lock, so child-row changes of
concurrent saves of the same image are serialized and each applies only its own diff.
Member changes lock the image row the same way. SQLite writers take the database write lock
at BEGIN (see :mod:`.engine`).

A status change that starts or ends a write of the image's data (``saving``, ``uploading``
without a size) takes or drops the image's upload lease in the same transaction
(:mod:`.upload_leases`), so that a writer that died can be recognised and its image recovered.

Deleting an image soft-deletes it and its child rows (as Glance does) and records its id in
``image_id_tombstones`` so it can never be added again, even after a purge.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import attrs
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import exc as sa_exc

from glance_domain import errors
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.ports import Usage
from glance_domain.query import ImageQuery, ListScope
from glance_domain_adapters.db import children, listing, mapping, members, upload_leases
from glance_domain_adapters.db import usage as usage_query
from glance_domain_adapters.db.engine import WRITE_OPTION
from glance_domain_adapters.db.errors import retry_on_deadlock, translated
from glance_domain_adapters.db.lookup import ID_LENGTH, get_row, lock_image
from glance_domain_adapters.db.tables import (
    image_id_tombstones,
    image_locations,
    image_members,
    image_properties,
    image_tags,
    images,
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqlImageRepository:
    """Images and members in a SQL database (SQLite, PostgreSQL, MariaDB/MySQL).

    ``clock`` returns the current UTC time (for ``updated_at``/``deleted_at``); it
    defaults to the system clock. ``lease_seconds``: how long an upload lease lasts without
    renewal (upload leases always use the system clock).
    """

    def __init__(
        self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None,
        lease_seconds: float = upload_leases.DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._clock = clock or _utcnow
        self.lease_seconds = lease_seconds

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
        if len(image.id) > ID_LENGTH:
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
                children.insert_properties(conn, image.id, image.extra_properties, created)
                children.insert_tags(conn, image.id, image.tags, created)
                children.insert_locations(conn, image.id, image.locations, created)
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

    @staticmethod
    def _get(conn: Connection, image_id: str) -> Image:
        return children.hydrate(conn, [get_row(conn, image_id)])[0]

    def list(self, query: ImageQuery, scope: ListScope) -> builtins.list[Image]:
        with translated(), self._read() as conn:
            marker_values = None
            if query.marker is not None:
                marker_values = self._marker_values(conn, query, scope)
            stmt = listing.build_select(
                query, scope, dialect=self._dialect, marker_values=marker_values
            )
            rows = conn.execute(stmt).all()
            return children.hydrate(conn, rows)

    @staticmethod
    def _marker_values(
        conn: Connection, query: ImageQuery, scope: ListScope
    ) -> builtins.list[Any]:
        marker = query.marker
        assert marker is not None
        row = None
        if len(marker) <= ID_LENGTH:
            visible = true() if scope.unrestricted or scope.admin else _visible_condition(scope)
            row = conn.execute(  # the marker and whether the caller may see it: one trip
                select(images, visible.label("gd_visible")).where(
                    images.c.id == marker,
                    # an admin may page from a deleted image (Glance's can_see_deleted)
                    true() if scope.admin else images.c.deleted == false(),
                )
            ).first()
        if row is None or not row.gd_visible:
            # an image the caller may not see is answered as one that does not exist (Glance
            # answers 403 "not visible", telling that the id exists: issue 12)
            raise errors.InvalidInput(f"No image found with ID {marker}")
        sort = listing.effective_sort(query.sort)
        return [listing.sort_value(k.key, getattr(row, k.key)) for k in sort]

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
            self._swap_image_row(conn, before, values)
            self._track_write(conn, before, after)
            children.apply_children(conn, before, after, now)
            return self._get(conn, before.id)

    def _track_write(self, conn: Connection, before: Image, after: Image) -> None:
        """Take the upload lease when a write of the image's data starts, drop it (Conflict
        if another process took it over) when the write ends."""
        was, will = upload_leases.lease_kind(before), upload_leases.lease_kind(after)
        if will is not None and was is None:
            upload_leases.acquire(conn, after.id, will, upload_leases.utcnow(),
                                  self.lease_seconds)
        elif was is not None and will is None:
            upload_leases.release(conn, before.id)

    @retry_on_deadlock()
    def remove(self, image: Image, *, keep_data: bool = False) -> Image:
        status = "pending_delete" if keep_data else "deleted"
        with self._write() as conn:
            now = self._now()
            self._swap_image_row(
                conn, image, {"status": status, "deleted": True, "deleted_at": now,
                              "updated_at": now}
            )
            for table in (image_locations, image_properties, image_members, image_tags):
                values: dict[str, Any] = {"deleted": True, "deleted_at": now}
                if table is image_locations and keep_data:
                    # the scrubber's queue (Glance's): updated_at == deleted_at: not claimed
                    values.update(status="pending_delete", updated_at=now)
                conn.execute(
                    table.update()
                    .where(table.c.image_id == image.id, table.c.deleted == false())
                    .values(**values)
                )
            conn.execute(image_id_tombstones.insert().values(id=image.id, deleted_at=now))
            upload_leases.release(conn, image.id, checked=False)
        return attrs.evolve(image, status=status, updated_at=now)

    @staticmethod
    def _swap_image_row(conn: Connection, before: Image, values: dict[str, Any]) -> None:
        """Update the live ``images`` row only while its status is still ``before.status``."""
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
            _raise_lost_swap(conn, before)

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
                lock_image(conn, image_id)
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
            return usage_query.usage(conn, owner)

    def location_users(self, url: str) -> builtins.list[str]:
        with translated(), self._read() as conn:
            return usage_query.location_users(conn, url)

    # -- members (see :mod:`.members`) ----------------------------------------------------------

    def list_members(self, image_id: str) -> builtins.list[Member]:
        with translated(), self._read() as conn:
            return members.list_members(conn, image_id)

    def get_member(self, image_id: str, member_id: str) -> Member:
        with translated(), self._read() as conn:
            return members.get_member(conn, image_id, member_id)

    @retry_on_deadlock()
    def add_member(self, member: Member) -> Member:
        with self._write() as conn:
            return members.add_member(conn, member)

    @retry_on_deadlock()
    def save_member(self, member: Member) -> Member:
        with self._write() as conn:
            return members.save_member(conn, member)

    @retry_on_deadlock()
    def remove_member(self, member: Member) -> None:
        with self._write() as conn:
            members.remove_member(conn, member, self._now)

    def member_status(self, image_id: str, member_id: str) -> str | None:
        with translated(), self._read() as conn:
            return members.member_status(conn, image_id, member_id)


def _raise_lost_swap(conn: Connection, before: Image) -> NoReturn:
    """NotFound if the image is gone, else Conflict: its status changed since ``before``."""
    current = conn.execute(
        select(images.c.status).where(images.c.id == before.id, images.c.deleted == false())
    ).first()
    if current is None:
        raise errors.NotFound(f"No image found with ID {before.id}")
    raise errors.Conflict(
        f"Image {before.id} status changed from {before.status} to "
        f"{current.status} concurrently"
    )


def _visible_condition(scope: ListScope) -> Any:
    """Glance's ``is_image_visible`` for the caller behind ``scope`` (used for markers).

    Visible: images without owner, public and community images, the caller's own images, and
    images the caller is a member of (whatever the membership status).
    """
    owners = sorted({c.owner for c in scope.clauses if c.owner is not None})
    members_ = sorted({c.member for c in scope.clauses if c.member is not None})
    parts: list[Any] = [images.c.owner.is_(None), images.c.visibility.in_(("public", "community"))]
    if owners:
        parts.append(images.c.owner.in_(owners))
    if members_:
        parts.append(
            exists().where(
                image_members.c.image_id == images.c.id,
                image_members.c.member.in_(members_),
                image_members.c.deleted == false(),
            )
        )
    return or_(*parts)
