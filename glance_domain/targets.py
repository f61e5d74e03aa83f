"""Flat policy targets, built as Glance builds them (one function, used by the policy layer)."""

from __future__ import annotations

from typing import Any

from glance_domain.context import RequestContext
from glance_domain.model.image import Image


def image_target(context: RequestContext, image: Image) -> dict[str, Any]:
    """The image's attributes and extra properties, plus ``project_id`` (= owner) and
    ``member_id`` (the caller's project when it reaches a shared image it does not own).
    """
    member = None
    if image.visibility == "shared" and context.owner != image.owner:
        member = context.owner
    target: dict[str, Any] = dict(image.extra_properties)
    target.update(
        id=image.id,
        image_id=image.id,
        name=image.name,
        status=image.status,
        visibility=image.visibility,
        protected=image.protected,
        os_hidden=image.os_hidden,
        checksum=image.checksum,
        os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value,
        owner=image.owner,
        project_id=image.owner,
        size=image.size,
        virtual_size=image.virtual_size,
        min_disk=image.min_disk,
        min_ram=image.min_ram,
        container_format=image.container_format,
        disk_format=image.disk_format,
        created_at=image.created_at,
        updated_at=image.updated_at,
        tags=image.tags,
        member=member,
        member_id=member,
    )
    return target


def new_image_target(context: RequestContext, image: Image) -> dict[str, Any]:
    """Target for ``add_image`` (Glance: owner, project_id = proposed owner, visibility)."""
    return {"project_id": image.owner, "owner": image.owner, "visibility": image.visibility}


def project_target(context: RequestContext) -> dict[str, Any]:
    """Target for project-wide rules (``get_images``)."""
    return {"project_id": context.project_id}
