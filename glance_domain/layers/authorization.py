"""Authorization: who may see and who may change what (rules from ``glance_domain.visibility``).

Hard rules that hold whatever the policy file says: invisible images are NotFound; only the owner
or an admin changes an image or its member list; only a member (or an admin) changes its own
membership status; non-admins only ever see their own membership of someone else's image;
protected images cannot be deleted; deactivated images are downloadable by admins only.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from glance_domain import visibility
from glance_domain.context import RequestContext
from glance_domain.errors import Forbidden, NotFound, PolicyDenied
from glance_domain.importing.request import COPY_IMAGE, ImportRequest
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.ports import DataStream
from glance_domain.query import ImageQuery, ListScope


class AuthorizationLayer(Layer):
    __slots__ = ("context",)

    def __init__(self, inner: Layer, context: RequestContext) -> None:
        self.inner = inner
        self.context = context

    # -- helpers --------------------------------------------------------------------------
    def _visible(self, image: Image) -> Image:
        status = None
        if visibility.needs_membership(self.context, image):
            status = self.inner.member_status(image, self.context.owner or "")
        if not visibility.can_see(self.context, image, status):
            raise NotFound(f"No image found with ID {image.id}")
        return image

    def _mutable(self, image: Image, rule: str = "modify_image") -> None:
        """Only admins and the owner change an image; the refusal names the policy ``rule``
        Glance's default rules would have refused (Glance reports these as policy denials)."""
        if not visibility.is_admin_or_owner(self.context, image):
            raise PolicyDenied(rule)

    def _shared(self, image: Image) -> None:
        if image.visibility != "shared":
            raise Forbidden("Only shared images have members.")

    # -- images ---------------------------------------------------------------------------
    def get(self, image_id: str) -> Image:
        return self._visible(self.inner.get(image_id))

    def fetch(self, image_id: str) -> Image:
        return self._visible(self.inner.fetch(image_id))

    def list(self, query: ImageQuery, scope: ListScope | None) -> list[Image]:
        return self.inner.list(query, visibility.list_scope(self.context, query))

    def add(self, image: Image) -> Image:
        # A caller with no project creates nothing unless it is an admin: the image would have
        # no owner, and ownerless images are visible to every project (Glance's deployments
        # refuse such callers by token scope: a keystone token with roles but no project is
        # domain- or system-scoped, which its project-scoped rules refuse).
        if self.context.owner is None and not self.context.is_admin:
            raise PolicyDenied("add_image")
        # Creating for one's own project is always allowed; anything else needs ownership.
        if image.owner != self.context.owner and not visibility.owns(self.context, image.owner):
            raise Forbidden(f"You are not permitted to create images owned by '{image.owner}'")
        return self.inner.add(image)

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        self._mutable(before)
        if before.owner != after.owner and not self.context.is_admin:
            raise Forbidden("Owner can't be updated by non admin.")
        return self.inner.save(before, after, action)

    def remove(self, image: Image) -> Image:
        self._mutable(image, "delete_image")
        if image.protected:
            raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
        return self.inner.remove(image)

    # -- data -----------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        self._mutable(image, "upload_image")
        return self.inner.upload(image, data, size, backend)

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        if image.status == "deactivated" and not self.context.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download "
                            "is forbidden.")
        return self.inner.download(image, offset, length)

    def delete_from_store(self, image: Image, backend: str) -> Image:
        self._mutable(image, "delete_image_location")
        return self.inner.delete_from_store(image, backend)

    def measure_location(self, image: Image, url: str,
                         rule: str = "add_image_location") -> int:
        self._mutable(image)  # as the save that follows will
        return self.inner.measure_location(image, url, rule)

    # -- import ---------------------------------------------------------------------------
    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        self._mutable(image, "modify_image")
        return self.inner.stage(image, data, size)

    def check_import(self, image: Image, request: ImportRequest) -> None:
        # copy-image may be done by non-owners the policy allows (admins by default), with
        # service rights; every other method fills the image with data: owner or admin only.
        if request.method != COPY_IMAGE:
            self._mutable(image)
        self.inner.check_import(image, request)

    # -- members --------------------------------------------------------------------------
    def _own_membership_only(self, image: Image) -> bool:
        return not visibility.is_admin_or_owner(self.context, image)

    def list_members(self, image: Image) -> builtins.list[Member]:
        self._shared(image)
        members = self.inner.list_members(image)
        if self._own_membership_only(image):
            members = [m for m in members if m.member_id == self.context.owner]
        return members

    def get_member(self, image: Image, member_id: str) -> Member:
        self._check_member_lookup(image, member_id)
        return self.inner.get_member(image, member_id)

    def fetch_member(self, image: Image, member_id: str) -> Member:
        self._check_member_lookup(image, member_id)
        return self.inner.fetch_member(image, member_id)

    def _check_member_lookup(self, image: Image, member_id: str) -> None:
        try:
            self._shared(image)
        except Forbidden as exc:
            raise NotFound(exc.message) from None
        if self._own_membership_only(image) and member_id != self.context.owner:
            raise NotFound(f"{member_id} not found in the member list of the image {image.id}.")

    def add_member(self, image: Image, member: Member) -> Member:
        self._shared(image)
        self._mutable(image, "add_member")
        return self.inner.add_member(image, member)

    def save_member(self, image: Image, before: Member, after: Member) -> Member:
        self._shared(image)
        if not visibility.owns(self.context, before.member_id):
            raise PolicyDenied("modify_member")  # Glance: the modify_member rule refuses
        return self.inner.save_member(image, before, after)

    def remove_member(self, image: Image, member: Member) -> None:
        self._shared(image)
        self._mutable(image, "delete_member")
        self.inner.remove_member(image, member)
