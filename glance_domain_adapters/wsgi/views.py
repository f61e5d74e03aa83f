"""JSON views of images and members, key for key as Glance renders them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from glance_domain.context import RequestContext
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.model.task import Task
from glance_domain.timeutil import isotime
from glance_domain.visibility import shows_locations

#: Extra properties Glance never shows (internal bookkeeping of the import workflow).
HIDDEN_PROPERTIES = frozenset({"os_glance_stage_host", "os_glance_hash_op_host"})


class ImageView:
    """Renders images according to the deployment's display options."""

    __slots__ = ("show_direct_url", "show_locations", "show_stores")

    def __init__(
        self, *, show_locations: bool, show_direct_url: bool, show_stores: bool
    ) -> None:
        self.show_locations = show_locations
        self.show_direct_url = show_direct_url
        self.show_stores = show_stores

    def __call__(self, image: Image, context: RequestContext | None = None) -> dict[str, Any]:
        """The image document; with the caller's ``context``, locations are shown only when
        ``visibility.shows_locations`` allows it (deactivated images: admins only)."""
        view: dict[str, Any] = {}
        for key, value in image.extra_properties.items():
            if key in HIDDEN_PROPERTIES:
                continue
            view[key] = "" if value is None else value
        image_id = image.id
        view["name"] = image.name
        view["disk_format"] = image.disk_format
        view["container_format"] = image.container_format
        view["visibility"] = image.visibility
        view["size"] = image.size
        view["virtual_size"] = image.virtual_size
        view["status"] = image.status
        view["checksum"] = image.checksum
        view["protected"] = image.protected
        view["min_ram"] = image.min_ram
        view["min_disk"] = image.min_disk
        view["owner"] = image.owner
        view["os_hidden"] = image.os_hidden
        view["os_hash_algo"] = image.os_hash_algo
        view["os_hash_value"] = image.os_hash_value
        view["id"] = image_id
        view["created_at"] = isotime(image.created_at)
        view["updated_at"] = isotime(image.updated_at)
        locations = image.locations
        if locations and context is not None and not shows_locations(context, image):
            locations = ()
        if locations:
            locations = tuple(loc for loc in locations if loc.status == "active")
        if self.show_locations:
            view["locations"] = [
                {"url": loc.url, "metadata": dict(loc.metadata)} for loc in locations
            ]
        if self.show_direct_url and locations:
            view["direct_url"] = locations[0].url
        view["tags"] = sorted(image.tags)
        href = "/v2/images/" + image_id
        view["self"] = href
        view["file"] = href + "/file"
        view["schema"] = "/v2/schemas/image"
        if self.show_stores and locations:
            stores = [loc.backend for loc in locations if loc.backend]
            if stores:
                view["stores"] = ",".join(stores)
        return view


def _naive_iso(value: dt.datetime | None) -> str | None:
    """``2026-01-01T00:00:00.123456`` (how Glance dumps raw task rows; naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat()


def task_view(task: Task) -> dict[str, Any]:
    """``GET /v2/tasks/{id}``: the full task document."""
    view: dict[str, Any] = {
        "id": task.id,
        "input": dict(task.input),
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "message": task.message,
        "result": None if task.result is None else dict(task.result),
        "created_at": isotime(task.created_at),
        "updated_at": isotime(task.updated_at),
        "self": "/v2/tasks/" + task.id,
        "schema": "/v2/schemas/task",
    }
    for key in ("image_id", "request_id", "user_id"):  # as Glance: only when set
        value = getattr(task, key)
        if value:
            view[key] = value
    if task.expires_at is not None:
        view["expires_at"] = isotime(task.expires_at)
    return view


def task_summary_view(task: Task) -> dict[str, Any]:
    """One entry of ``GET /v2/tasks`` (no input, result or message)."""
    view: dict[str, Any] = {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "created_at": isotime(task.created_at),
        "updated_at": isotime(task.updated_at),
        "self": "/v2/tasks/" + task.id,
        "schema": "/v2/schemas/task",
    }
    if task.expires_at is not None:
        view["expires_at"] = isotime(task.expires_at)
    return view


def image_task_view(task: Task) -> dict[str, Any]:
    """One entry of ``GET /v2/images/{id}/tasks`` (Glance returns its database rows)."""
    return {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "expires_at": _naive_iso(task.expires_at),
        "created_at": _naive_iso(task.created_at),
        "updated_at": _naive_iso(task.updated_at),
        "deleted_at": None,
        "deleted": False,
        "image_id": task.image_id,
        "request_id": task.request_id,
        "user_id": task.user_id,
        "input": dict(task.input),
        "result": None if task.result is None else dict(task.result),
        "message": task.message,
    }


def member_view(member: Member) -> dict[str, Any]:
    """One membership, as ``/v2/images/{id}/members/{member}`` shows it."""
    return {
        "member_id": member.member_id,
        "image_id": member.image_id,
        "status": member.status,
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
        "schema": "/v2/schemas/member",
    }
