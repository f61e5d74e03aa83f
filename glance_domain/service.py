"""ImageService: the one API that callers use (WSGI controllers, the CLI, embedding programs).

Obtain one per caller from ``Gateway.service(context)``. Every method runs through the whole layer
stack (authorization, policy, notification, quota, store, repository) for that context, and
raises only ``glance_domain.errors`` exceptions.

    >>> svc = gateway.service(RequestContext(project_id="p1", roles=("member",)))
    >>> image = svc.create_image(name="cirros", disk_format="qcow2", container_format="bare")
    >>> svc.upload_data(image.id, [b"..."])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from glance_domain.changes import Change
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import BackendInfo, DataStream, Usage
from glance_domain.query import ImageQuery


@attrs.frozen(kw_only=True)
class ImageDownload:
    """An image's data to send: ``stream`` yields ``length`` bytes starting at ``offset``."""

    image: Image
    stream: DataStream
    offset: int
    length: int
    total_size: int


class ImageService:
    """Operations on images and members for one caller. Implemented over the layer stack."""

    # -- images -------------------------------------------------------------------------
    def create_image(self, **attributes: Any) -> Image:
        """Create a queued image. Accepts Glance's writable attributes (id, name, visibility,
        protected, os_hidden, container_format, disk_format, min_disk, min_ram, tags, owner) and
        any extra property (string values). Read-only/reserved names raise Forbidden subclasses.
        """
        raise NotImplementedError

    def get_image(self, image_id: str) -> Image:
        """The image, if the caller may see it (else NotFound)."""
        raise NotImplementedError

    def list_images(self, query: ImageQuery) -> list[Image]:
        """One page of the images the caller may see, per ``query`` (see ImageQuery)."""
        raise NotImplementedError

    def update_image(self, image_id: str, changes: Sequence[Change]) -> Image:
        """Apply JSON-patch-like changes atomically (all or none) and return the new image."""
        raise NotImplementedError

    def delete_image(self, image_id: str) -> None:
        """Delete an image and its data (Forbidden if protected)."""
        raise NotImplementedError

    def deactivate_image(self, image_id: str) -> Image:
        """active -> deactivated (idempotent on a deactivated image)."""
        raise NotImplementedError

    def reactivate_image(self, image_id: str) -> Image:
        """deactivated -> active (idempotent on an active image)."""
        raise NotImplementedError

    def add_tag(self, image_id: str, tag: str) -> Image:
        raise NotImplementedError

    def remove_tag(self, image_id: str, tag: str) -> Image:
        """NotFound if the image does not have the tag."""
        raise NotImplementedError

    # -- data -----------------------------------------------------------------------------
    def upload_data(
        self,
        image_id: str,
        data: Iterable[bytes],
        *,
        size: int | None = None,
        backend: str | None = None,
    ) -> Image:
        """Stream bytes into a store and activate the image (queued -> saving -> active).

        On any failure (size cap, client disconnect, store error) the image returns to
        ``queued`` with no data kept, and the error is re-raised.
        """
        raise NotImplementedError

    def download_data(
        self, image_id: str, *, offset: int = 0, length: int | None = None
    ) -> ImageDownload | None:
        """The image's bytes (or a range of them); None when the image has no data yet."""
        raise NotImplementedError

    def delete_from_store(self, image_id: str, backend: str) -> Image:
        """Remove the image's data from one backend (it must keep at least one location)."""
        raise NotImplementedError

    def add_location(self, image_id: str, url: str, metadata: dict[str, Any]) -> Image:
        raise NotImplementedError

    def get_locations(self, image_id: str) -> list[Location]:
        raise NotImplementedError

    # -- members ----------------------------------------------------------------------------
    def list_members(self, image_id: str) -> list[Member]:
        raise NotImplementedError

    def get_member(self, image_id: str, member_id: str) -> Member:
        raise NotImplementedError

    def add_member(self, image_id: str, member_id: str) -> Member:
        raise NotImplementedError

    def update_member(self, image_id: str, member_id: str, status: str) -> Member:
        raise NotImplementedError

    def remove_member(self, image_id: str, member_id: str) -> None:
        raise NotImplementedError

    # -- info -------------------------------------------------------------------------------
    def stores(self) -> list[BackendInfo]:
        raise NotImplementedError

    def usage(self) -> Usage:
        raise NotImplementedError
