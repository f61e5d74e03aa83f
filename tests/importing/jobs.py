"""An ``ImportJob`` over a real ``FileStagingArea`` and one in-memory image, for running one
import plugin on real files."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import attrs

from glance_domain.context import RequestContext
from glance_domain.importing.plugins import ImportJob
from glance_domain.model.image import Image
from glance_domain.ports import Usage
from glance_domain.settings import DomainSettings
from glance_domain_adapters.importing import FileStagingArea
from tests.conftest import unavailable


class Holder:
    """The image a job sees and changes."""

    def __init__(self, image: Image) -> None:
        self.image = image

    def update(self, change: Callable[[Image], Image]) -> Image:
        self.image = change(self.image)
        return self.image


def make_job(
    tmp: Path, data: bytes, *, settings: DomainSettings | None = None,
    roles: tuple[str, ...] = ("member",), stored: int = 0, **image: object,
) -> tuple[ImportJob, Holder, FileStagingArea]:
    now = dt.datetime(2024, 1, 1)
    values = {"disk_format": "raw", "container_format": "bare", **image}
    record = Image(id=str(uuid.uuid4()), name="i", owner="p1", status="importing",  # type: ignore[arg-type]
                   created_at=now, updated_at=now, **values)
    holder = Holder(record)
    staging = FileStagingArea(str(tmp / f"staging-{record.id}"))
    staging.write(record.id, [data])
    holder.update(lambda img: attrs.evolve(img, size=len(data)))
    job = ImportJob(
        image_id=record.id, task_id="t1", method="glance-direct", stores=("default",),
        context=RequestContext(project_id="p1", user_id="u1", roles=roles),
        staging=staging, settings=settings or DomainSettings(),
        usage=lambda owner: Usage(stored_bytes=stored),
        get=lambda: holder.image, update=holder.update,
    )
    return job, holder, staging


def staged(staging: FileStagingArea, job: ImportJob) -> bytes:
    return Path(staging.local_path(job.image_id)).read_bytes()


def qemu_img() -> str:
    """The path of qemu-img; skips the test (fails it under CI=true) when it is missing."""
    path = shutil.which("qemu-img")
    if path is None:
        unavailable("qemu-img is not installed (Debian/Ubuntu package qemu-utils)")
    assert path is not None
    return path


def qemu(*args: str) -> None:
    subprocess.run([qemu_img(), *args], check=True, capture_output=True)


def zip_bytes(*members: tuple[str, bytes]) -> bytes:
    """A zip archive (deflated) holding ``members`` (name, data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()
