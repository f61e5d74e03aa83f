"""Image membership rows (``image_members``): the member half of the ImageRepository port.

Each function runs inside a transaction opened by :class:`~.repository.SqlImageRepository`,
which owns connections and deadlock retries. Adding and removing a member first locks the
image row, so membership changes of one image are serialized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
from sqlalchemy import Connection, and_, false, select, true

from glance_domain import errors
from glance_domain.model.member import Member
from glance_domain_adapters.db import mapping
from glance_domain_adapters.db.lookup import get_row, lock_image
from glance_domain_adapters.db.tables import image_members, images


def _active_member(image_id: str, member_id: str) -> Any:
    m = image_members.c
    return and_(m.image_id == image_id, m.member == member_id, m.deleted == false())


def _not_found(image_id: str, member_id: str) -> errors.NotFound:
    return errors.NotFound(f"{member_id} not found in the member list of the image {image_id}.")


def list_members(conn: Connection, image_id: str) -> list[Member]:
    """The image's live members, oldest first; NotFound if the image does not exist."""
    rows = conn.execute(
        select(image_members)
        .join(images, images.c.id == image_members.c.image_id)
        .where(image_members.c.image_id == image_id,
               image_members.c.deleted == false(), images.c.deleted == false())
        .order_by(image_members.c.created_at, image_members.c.id)
    ).all()
    if not rows:
        get_row(conn, image_id)
    return [mapping.member_from_row(r) for r in rows]


def get_member(conn: Connection, image_id: str, member_id: str) -> Member:
    row = conn.execute(select(image_members).where(_active_member(image_id, member_id))).first()
    if row is None:
        raise _not_found(image_id, member_id)
    return mapping.member_from_row(row)


def add_member(conn: Connection, member: Member) -> Member:
    lock_image(conn, member.image_id)
    existing = conn.execute(
        select(image_members.c.id)
        .where(_active_member(member.image_id, member.member_id))
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


def save_member(conn: Connection, member: Member) -> Member:
    updated = mapping.to_db_time(member.updated_at)
    result = conn.execute(
        image_members.update()
        .where(_active_member(member.image_id, member.member_id))
        .values(status=member.status, updated_at=updated)
    )
    if result.rowcount == 0:
        raise _not_found(member.image_id, member.member_id)
    row = conn.execute(
        select(image_members).where(_active_member(member.image_id, member.member_id))
    ).first()
    assert row is not None
    return mapping.member_from_row(row)


def remove_member(conn: Connection, member: Member, clock: Callable[[], dt.datetime]) -> None:
    """Soft-delete the membership; ``clock`` is read once the image row is locked."""
    lock_image(conn, member.image_id)
    now = clock()
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
        .where(_active_member(member.image_id, member.member_id))
        .values(deleted=True, deleted_at=now, updated_at=now)
    )
    if result.rowcount == 0:
        raise _not_found(member.image_id, member.member_id)


def member_status(conn: Connection, image_id: str, member_id: str) -> str | None:
    status = conn.execute(
        select(image_members.c.status).where(_active_member(image_id, member_id))
    ).scalar()
    return None if status is None else str(status)
