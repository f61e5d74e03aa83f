"""``SqlScrubQueue``: the ``ScrubQueue`` port over the ``image_locations`` rows themselves.

As in Glance, a delayed delete leaves the image row ``deleted`` with status ``pending_delete``
and its location rows ``deleted`` with status ``pending_delete``: those rows ARE the queue
(so a queue written by Glance 33 is scrubbed here, and the other way round). What this adds:

- a claim is a compare-and-swap on the location row's ``updated_at`` (equal to its
  ``deleted_at`` until claimed): one scrubber wins each job, and a claim older than the claim
  timeout may be taken over, so a scrubber killed mid-way loses no delete;
- the first claim of an image moves it from ``pending_delete`` to ``deleted`` (compare-and-
  swap on status and ``deleted_at``), so a restore can never bring back an image whose data is
  being deleted;
- a restore brings back the locations, properties, tags and members the delete removed (those
  soft-deleted at the image's ``deleted_at``); Glance's restore brings back the image row only.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, or_, select, true

from glance_domain import errors
from glance_domain.model.image import Image
from glance_domain.ports import ScrubJob
from glance_domain_adapters.db import mapping
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

PENDING = "pending_delete"


class SqlScrubQueue:
    """Delayed deletes kept in a SQL database (SQLite, PostgreSQL, MariaDB/MySQL).

    ``get`` loads a live image after a restore (the repository's ``get``)."""

    def __init__(self, engine: Engine, get: Callable[[str], Image]) -> None:
        self._engine = engine
        self._get = get

    def due(self, deleted_before: dt.datetime, claimed_before: dt.datetime,
            limit: int) -> builtins.list[ScrubJob]:
        loc = image_locations
        query = (
            select(loc.c.id, loc.c.image_id, loc.c.value, loc.c.meta_data, loc.c.updated_at,
                   images.c.deleted_at)
            .join(images, images.c.id == loc.c.image_id)
            .where(
                loc.c.status == PENDING,
                images.c.deleted == true(),
                images.c.deleted_at <= mapping.to_db_time(deleted_before),
                or_(loc.c.updated_at.is_(None), loc.c.updated_at == loc.c.deleted_at,
                    loc.c.updated_at <= mapping.to_db_time(claimed_before)),
            )
            .order_by(images.c.deleted_at, loc.c.id)
            .limit(limit)
        )
        with translated(), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        jobs = []
        for row in rows:
            location = mapping.location_from_row(_LocationRow(row))
            jobs.append(ScrubJob(image_id=row.image_id, location_id=str(row.id),
                                 url=location.url, backend=location.backend,
                                 deleted_at=row.deleted_at, version=row.updated_at))
        return jobs

    @retry_on_deadlock()
    def claim(self, job: ScrubJob, now: dt.datetime) -> bool:
        loc = image_locations
        with translated(), self._write() as conn:
            image = conn.execute(
                select(images.c.status)
                .where(images.c.id == job.image_id, images.c.deleted == true(),
                       images.c.deleted_at == job.deleted_at)
                .with_for_update()
            ).first()
            if image is None or image.status not in (PENDING, "deleted"):
                return False  # restored (and maybe deleted again since)
            version = loc.c.updated_at.is_(None) if job.version is None else (
                loc.c.updated_at == job.version)
            taken = conn.execute(
                loc.update()
                .where(loc.c.id == int(job.location_id), loc.c.status == PENDING, version)
                .values(updated_at=mapping.to_db_time(now))
            ).rowcount
            if taken != 1:
                return False
            if image.status == PENDING:  # scrubbing starts: no restore from now on
                conn.execute(images.update().where(images.c.id == job.image_id,
                                                   images.c.status == PENDING)
                             .values(status="deleted"))
            return True

    @retry_on_deadlock()
    def finish(self, job: ScrubJob) -> None:
        loc = image_locations
        with translated(), self._write() as conn:
            conn.execute(loc.update().where(loc.c.id == int(job.location_id),
                                            loc.c.status == PENDING)
                         .values(status="deleted"))

    @retry_on_deadlock()
    def restore(self, image_id: str) -> Image:
        with translated(), self._write() as conn:
            row = conn.execute(
                select(images.c.status, images.c.deleted_at).where(images.c.id == image_id)
                .with_for_update()
            ).first()
            if row is None:
                raise errors.NotFound(f"No image found with ID {image_id}")
            if row.status != PENDING:
                raise errors.Conflict(f"cannot restore the image from {row.status} to active "
                                      "(wanted from_state=pending_delete)")
            deleted_at = row.deleted_at
            conn.execute(images.update().where(images.c.id == image_id,
                                               images.c.status == PENDING)
                         .values(status="active", deleted=False, deleted_at=None))
            for table in (image_properties, image_tags, image_members, image_locations):
                values: dict[str, Any] = {"deleted": False, "deleted_at": None}
                if table is image_locations:
                    values["status"] = "active"
                conn.execute(table.update().where(
                    and_(table.c.image_id == image_id, table.c.deleted == true(),
                         table.c.deleted_at == deleted_at)).values(**values))
            conn.execute(delete(image_id_tombstones).where(image_id_tombstones.c.id == image_id))
        return self._get(image_id)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn


class _LocationRow:
    """The columns ``mapping.location_from_row`` reads."""

    def __init__(self, row: Any) -> None:
        self.value = row.value
        self.meta_data = row.meta_data
        self.status = PENDING
