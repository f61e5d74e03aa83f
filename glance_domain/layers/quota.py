"""Quotas: property, tag, location and member counts, per-owner image count and storage, and the
upload size cap, which is enforced while the bytes stream (the store layer cleans up when it trips).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from glance_domain.changes import diff
from glance_domain.context import RequestContext
from glance_domain.errors import QuotaExceeded, SizeLimitExceeded
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.ports import Usage
from glance_domain.settings import DomainSettings
from glance_domain.streams import capped

UsageSource = Callable[[str], Usage]


def _over(count: int, quota: int) -> bool:
    return quota >= 0 and count > quota


class QuotaLayer(Layer):
    __slots__ = ("context", "settings", "usage")

    def __init__(
        self, inner: Layer, context: RequestContext, settings: DomainSettings, usage: UsageSource
    ) -> None:
        self.inner = inner
        self.context = context
        self.settings = settings
        self.usage = usage

    def _check_counts(self, image: Image) -> None:
        s = self.settings
        for what, count, quota in (
            ("properties", len(image.extra_properties), s.image_property_quota),
            ("tags", len(image.tags), s.image_tag_quota),
            ("locations", len(image.locations), s.image_location_quota),
        ):
            if _over(count, quota):
                raise QuotaExceeded(limit_text(f"image {what}", count, quota))

    def add(self, image: Image) -> Image:
        self._check_counts(image)
        quota = self.settings.image_count_quota
        if (
            quota >= 0
            and image.owner is not None
            and self.usage(image.owner).image_count + 1 > quota
        ):
            raise QuotaExceeded(
                f"Maximum number of images exceeded for project {image.owner} ({quota})."
            )
        return self.inner.add(image)

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        d = diff(before, after)
        if d.added_properties or d.added_tags or d.locations_changed:
            self._check_counts(after)
        if d.locations_changed:
            self._check_added_locations(before, after)
        return self.inner.save(before, after, action)

    def _check_added_locations(self, before: Image, after: Image) -> None:
        """Each new location stores the image's data once more: with ``user_storage_quota``
        the owner's usage (size x locations, as Glance counts it) must have room for it."""
        storage = self.settings.user_storage_quota
        listed = {loc.url for loc in before.locations}
        added = sum(1 for loc in after.locations if loc.url not in listed)
        if storage <= 0 or not added or after.owner is None or not after.size:
            return
        required = after.size * added
        remaining = max(storage - self.usage(after.owner).stored_bytes, 0)
        if required > remaining:
            raise QuotaExceeded(
                "Denying attempt to upload image because it exceeds the quota: The size of "
                f"the data {required} will exceed the limit. {remaining} bytes remaining.")

    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        data = self._capped(image, data, size)
        return self.inner.upload(image, data, size, backend)

    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        return self.inner.stage(image, self._capped(image, data, size), size)

    def _capped(self, image: Image, data: Iterable[bytes], size: int | None) -> Iterable[bytes]:
        """``data`` limited to the size cap and the owner's remaining storage quota."""
        limit, message = data_limit(self.settings, image.owner, self.usage, size)
        if size is not None and size > limit:
            raise SizeLimitExceeded(message)
        return capped(data, limit, message)

    def add_member(self, image: Image, member: Member) -> Member:
        quota = self.settings.image_member_quota
        attempted = len(self.inner.list_members(image)) + 1 if quota >= 0 else 0
        if quota >= 0 and attempted > quota:
            raise QuotaExceeded(limit_text("image members for this image", attempted, quota))
        return self.inner.add_member(image, member)


def limit_text(what: str, attempted: int, maximum: int) -> str:
    """Glance's text for a count quota (``image_property_quota``, ``image_member_quota``...)."""
    return (f"The limit has been exceeded on the number of allowed {what}. "
            f"Attempted: {attempted}, Maximum: {maximum}")


def data_limit(
    settings: DomainSettings, owner: str | None, usage: UsageSource, size: int | None = None
) -> tuple[int, str]:
    """The most bytes ``owner`` may store as one image's data, and the text to refuse more
    with: ``image_size_cap``, or the owner's remaining ``user_storage_quota`` when smaller.
    ``size``: the announced size, quoted in the quota text when known."""
    limit = settings.image_size_cap
    message = "The incoming image is too large: The provided image is too large."
    storage = settings.user_storage_quota
    if storage > 0 and owner is not None:
        remaining = storage - usage(owner).stored_bytes
        if remaining < limit:
            limit = max(remaining, 0)
            message = (
                "Image exceeds the storage quota: The size of the data "
                f"{size if size is not None else limit + 1} will exceed the limit. "
                f"{limit} bytes remaining."
            )
    return limit, message
