"""Per-owner usage figures (image count, stored and staged bytes) for quota checks, and the
images that use one location (the data there is theirs)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, exists, false, func, or_, select

from glance_domain.ports import Usage
from glance_domain_adapters.db.tables import image_locations, image_properties, images

#: Statuses whose images count toward no quota.
NOT_COUNTED = ("killed", "pending_delete", "deleted")


def usage(conn: Connection, owner: str) -> Usage:
    """What ``owner``'s images use now: three aggregate queries, no rows loaded.

    Stored bytes count an image's size once per active location; staged bytes are the images
    being uploaded or imported (including active images still being copied to more stores).
    """
    counted = and_(
        images.c.owner == owner,
        images.c.deleted == false(),
        images.c.status.not_in(NOT_COUNTED),
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
                    images.c.status.not_in(("uploading", "importing", *NOT_COUNTED)),
                    importing,
                ),
            ),
        )
    ).scalar_one()
    return Usage(image_count=int(count), stored_bytes=int(stored), staged_bytes=int(staged))


def location_users(conn: Connection, url: str) -> list[str]:
    """Ids of the images whose data at ``url`` must be kept: live images listing a (not
    deleted) location row with exactly this URL, and ``pending_delete`` images (delayed
    delete: restorable) whose location row the scrubber has not finished.

    ``image_locations.value`` has no index (a TEXT column; MySQL would need a prefix index): the
    query walks the live location rows, which is acceptable for the operations that ask (a
    location added or data about to be deleted), never for a listing.
    """
    rows = conn.execute(
        select(image_locations.c.image_id).distinct()
        .join(images, images.c.id == image_locations.c.image_id)
        .where(
            image_locations.c.value == url,
            or_(
                and_(image_locations.c.deleted == false(), images.c.deleted == false()),
                and_(images.c.status == "pending_delete",
                     image_locations.c.status == "pending_delete"),
            ),
        )
        .order_by(image_locations.c.image_id)
    ).scalars()
    return [str(image_id) for image_id in rows]
