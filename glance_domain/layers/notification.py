"""Notifications: Glance's event types and payloads, sent after each successful operation.

image.create / image.update / image.delete on persistence, image.prepare + image.upload +
image.activate (or an ERROR image.upload with a message) around uploads, image.send when a
download stream ends, image.member.create / update / delete for memberships.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from glance_domain.context import RequestContext
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.model.status import check_transition
from glance_domain.ports import Clock, DataStream, Notifier
from glance_domain.timeutil import isotime


def image_payload(image: Image) -> dict[str, Any]:
    """Glance's image notification payload (no locations: they may hold credentials)."""
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "created_at": isotime(image.created_at),
        "updated_at": isotime(image.updated_at),
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "protected": image.protected,
        "checksum": image.checksum,
        "owner": image.owner,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "is_public": image.visibility == "public",
        "visibility": image.visibility,
        "properties": dict(image.extra_properties),
        "tags": sorted(image.tags),
        "deleted": False,
        "deleted_at": None,
    }


def member_payload(member: Member) -> dict[str, Any]:
    """Glance's image member notification payload."""
    return {
        "image_id": member.image_id,
        "member_id": member.member_id,
        "status": member.status,
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
        "deleted": False,
        "deleted_at": None,
    }


def import_properties(image: Image) -> dict[str, Any]:
    """The import-progress fields Glance adds to image.prepare/upload payloads."""
    importing = image.extra_properties.get("os_glance_importing_to_stores")
    failed = image.extra_properties.get("os_glance_failed_import")
    return {
        "os_glance_importing_to_stores": importing.split(",") if importing else [],
        "os_glance_failed_import": failed.split(",") if failed else [],
    }


class NotificationLayer(Layer):
    __slots__ = ("clock", "context", "notifier")

    def __init__(
        self, inner: Layer, context: RequestContext, notifier: Notifier, clock: Clock
    ) -> None:
        self.inner = inner
        self.context = context
        self.notifier = notifier
        self.clock = clock

    def _send(self, event: str, payload: Any, level: str = "INFO") -> None:
        self.notifier.notify(self.context, event, payload, level=level)

    # -- images ---------------------------------------------------------------------------
    def add(self, image: Image) -> Image:
        added = self.inner.add(image)
        self._send("image.create", image_payload(added))
        return added

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        saved = self.inner.save(before, after, action)
        self._send("image.update", image_payload(saved))
        return saved

    def remove(self, image: Image) -> Image:
        removed = self.inner.remove(image)
        payload = image_payload(removed)
        payload.update(deleted=True, deleted_at=isotime(self.clock.now()))
        self._send("image.delete", payload)
        return removed

    # -- data -----------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        # A refused transition (e.g. upload to an active image) happens before any event, as in
        # Glance where the status is set to saving before the data is handed over.
        check_transition(image, "saving")
        payload = image_payload(image)
        payload.update(import_properties(image))
        if backend:
            payload["backend"] = backend
        self._send("image.prepare", payload)
        try:
            uploaded = self.inner.upload(image, data, size, backend)
        except BaseException as exc:
            # Glance's payload here is a bare message string; the Notifier port takes mappings,
            # so the message travels under "message" with the image id.
            message = f"Failed to upload image data for image {image.id}: {exc}"
            self._send("image.upload", {"image_id": image.id, "message": message}, level="ERROR")
            raise
        payload = image_payload(uploaded)
        payload.update(import_properties(uploaded))
        self._send("image.upload", payload)
        if image.status != "active" and uploaded.status == "active":
            self._send("image.activate", image_payload(uploaded))
        return uploaded

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        stream = self.inner.download(image, offset, length)
        if stream is None:
            return None
        expected = stream.length
        context = self.context

        def report(sent: int) -> None:  # runs once, when the stream is closed
            payload = {
                "bytes_sent": sent,
                "image_id": image.id,
                "owner_id": image.owner,
                "receiver_tenant_id": context.project_id,
                "receiver_user_id": context.user_id,
            }
            self._send("image.send", payload, level="INFO" if sent == expected else "ERROR")

        stream.on_close.append(report)
        return stream

    # -- members --------------------------------------------------------------------------
    def add_member(self, image: Image, member: Member) -> Member:
        added = self.inner.add_member(image, member)
        self._send("image.member.create", member_payload(added))
        return added

    def save_member(self, image: Image, before: Member, after: Member) -> Member:
        saved = self.inner.save_member(image, before, after)
        self._send("image.member.update", member_payload(saved))
        return saved

    def remove_member(self, image: Image, member: Member) -> None:
        self.inner.remove_member(image, member)
        payload = member_payload(member)
        payload.update(deleted=True, deleted_at=isotime(self.clock.now()))
        self._send("image.member.delete", payload)
