"""Finding a live image row by id: plainly, or locked for update.

Shared by the image and member operations of :class:`~.repository.SqlImageRepository`, which
both answer NotFound for an id that names no live image (including ids longer than the column,
which the database would otherwise reject or truncate).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, false, select

from glance_domain import errors
from glance_domain_adapters.db.tables import images

#: Length of ``images.id``: a longer id can name no image.
ID_LENGTH = 36


def get_row(conn: Connection, image_id: str) -> Any:
    """The live ``images`` row, or NotFound."""
    row = None
    if len(image_id) <= ID_LENGTH:
        row = conn.execute(
            select(images).where(images.c.id == image_id, images.c.deleted == false())
        ).first()
    if row is None:
        raise errors.NotFound(f"No image found with ID {image_id}")
    return row


def lock_image(conn: Connection, image_id: str) -> None:
    """Lock the image row (serializes member changes); NotFound if there is no image."""
    row = None
    if len(image_id) <= ID_LENGTH:
        row = conn.execute(
            select(images.c.id)
            .where(images.c.id == image_id, images.c.deleted == false())
            .with_for_update()
        ).first()
    if row is None:
        raise errors.NotFound(f"No image found with ID {image_id}")
