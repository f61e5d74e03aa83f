"""The operation protocol every layer implements, and the base class that forwards it.

Layers proxy *operations*, not entities: each receives plain, immutable ``Image`` records
(fetched once at the top of a request and passed down) and overrides only the operations it
cares about; everything else goes straight to ``inner``.

Operations:

- ``get(id)``: show one image (the ``get_image`` operation); ``fetch(id)``: load an image for
  another operation (visibility is checked, ``get_image`` policy is not fired).
- ``list(query, scope)``: one page; the authorization layer fills ``scope``.
- ``add(image)``, ``save(before, after, action)``, ``remove(image)``: persistence. ``action``
  names what a save is for (``update``, ``deactivate``, ``reactivate``, ``add_location``...), so
  each rule fires once. ``remove_keeping_data(image)``: the store layer's delayed delete (the
  record goes ``pending_delete``, the data waits for the scrubber); only the store layer calls
  it, on the layer below it.
- ``upload``, ``download``, ``delete_from_store``: data; ``measure_location(image, url)``: the
  size of the data at an existing location about to be added to ``image`` (a store read, so it
  is checked like the add itself, before the store is touched).
- ``stage(image, data, size)``: data into the staging area (``queued -> uploading``);
  ``check_import(image, request)``: authorization/policy for an import (the import itself is
  run by :class:`glance_domain.importing.Importer`); ``check_visibility(image, value)``: the
  rule of one requested visibility change (``publicize_image``/``communitize_image``).
- ``readable(image)``: the image as the caller may read it (property protections remove the
  extra properties it may not read; every other layer returns it unchanged), what a PATCH is
  applied to; ``check_property(image, name, operation)``: may the caller ``create``,
  ``update`` or ``delete`` the extra property ``name`` (fired once per patch operation, in
  order, as Glance does).
- ``location_users(url)``: ids of the live images listing a location with this URL (no rule
  fires: the store layer asks before it deletes data, the service before it adds a location).
- member operations, taking the (already fetched) image.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from glance_domain.importing.request import ImportRequest
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import DataStream
from glance_domain.query import ImageQuery, ListScope


class Layer:
    """Base layer: forwards every operation to ``inner`` unchanged."""

    __slots__ = ("inner",)

    def __init__(self, inner: Layer) -> None:
        self.inner = inner

    # -- images ---------------------------------------------------------------------------
    def get(self, image_id: str) -> Image:
        return self.inner.get(image_id)

    def fetch(self, image_id: str) -> Image:
        return self.inner.fetch(image_id)

    def list(self, query: ImageQuery, scope: ListScope | None) -> list[Image]:
        return self.inner.list(query, scope)

    def add(self, image: Image) -> Image:
        return self.inner.add(image)

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        return self.inner.save(before, after, action)

    def remove(self, image: Image) -> Image:
        return self.inner.remove(image)

    def remove_keeping_data(self, image: Image) -> Image:
        return self.inner.remove_keeping_data(image)

    # -- data -----------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        return self.inner.upload(image, data, size, backend)

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        return self.inner.download(image, offset, length)

    def delete_from_store(self, image: Image, backend: str) -> Image:
        return self.inner.delete_from_store(image, backend)

    def measure_location(self, image: Image, url: str,
                         rule: str = "add_image_location") -> int:
        """The size of the data at ``url`` (a store read), for adding it as a location;
        ``rule`` is the policy rule that allows it (the add-location API's, or
        ``set_image_location`` for a PATCH)."""
        return self.inner.measure_location(image, url, rule)

    def get_locations(self, image: Image) -> builtins.list[Location]:
        return self.inner.get_locations(image)

    # -- import ---------------------------------------------------------------------------
    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        return self.inner.stage(image, data, size)

    def check_import(self, image: Image, request: ImportRequest) -> None:
        self.inner.check_import(image, request)

    def check_api_rule(self, rule: str, image: Image | None = None) -> None:
        """A rule an API checks on its own, before doing anything (Glance's
        ``tasks_api_access``, the image cache API's rules): the target is ``image`` or empty."""
        self.inner.check_api_rule(rule, image)

    def check_visibility(self, image: Image, visibility: object) -> None:
        """Policy for one requested visibility change (Glance checks each patch operation
        that sets ``/visibility``, even to the current value)."""
        self.inner.check_visibility(image, visibility)

    # -- property protections --------------------------------------------------------------
    def readable(self, image: Image) -> Image:
        return self.inner.readable(image)

    def check_property(self, image: Image, name: str, operation: str) -> None:
        self.inner.check_property(image, name, operation)

    def location_users(self, url: str) -> builtins.list[str]:
        return self.inner.location_users(url)

    # -- members --------------------------------------------------------------------------
    def member_status(self, image: Image, member_id: str) -> str | None:
        return self.inner.member_status(image, member_id)

    def list_members(self, image: Image) -> builtins.list[Member]:
        return self.inner.list_members(image)

    def get_member(self, image: Image, member_id: str) -> Member:
        return self.inner.get_member(image, member_id)

    def fetch_member(self, image: Image, member_id: str) -> Member:
        """Load a membership for another member operation (no ``get_member`` policy)."""
        return self.inner.fetch_member(image, member_id)

    def add_member(self, image: Image, member: Member) -> Member:
        return self.inner.add_member(image, member)

    def save_member(self, image: Image, before: Member, after: Member) -> Member:
        return self.inner.save_member(image, before, after)

    def remove_member(self, image: Image, member: Member) -> None:
        self.inner.remove_member(image, member)
