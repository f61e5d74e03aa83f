"""The bottom of the stack: operations translated to the ImageRepository port."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from glance_domain.errors import StoreUnavailable
from glance_domain.importing.request import ImportRequest
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import DataStream, ImageRepository
from glance_domain.query import ImageQuery, ListScope


class RepositoryLayer(Layer):
    """Persists through the repository; data operations need a StoreLayer above it."""

    __slots__ = ("repo",)

    def __init__(self, repo: ImageRepository) -> None:
        self.repo = repo

    def get(self, image_id: str) -> Image:
        return self.repo.get(image_id)

    def fetch(self, image_id: str) -> Image:
        return self.repo.get(image_id)

    def get_locations(self, image: Image) -> builtins.list[Location]:
        return [loc for loc in image.locations if loc.status == "active"]

    def list(self, query: ImageQuery, scope: ListScope | None) -> list[Image]:
        if scope is None:
            raise RuntimeError("listing without a scope: no authorization layer in the stack")
        return self.repo.list(query, scope)

    def add(self, image: Image) -> Image:
        return self.repo.add(image)

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        return self.repo.save(before, after)

    def remove(self, image: Image) -> Image:
        return self.repo.remove(image)

    def remove_keeping_data(self, image: Image) -> Image:
        return self.repo.remove(image, keep_data=True)

    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        raise StoreUnavailable("No store is configured.")

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        raise StoreUnavailable("No store is configured.")

    def delete_from_store(self, image: Image, backend: str) -> Image:
        raise StoreUnavailable("No store is configured.")

    def measure_location(self, image: Image, url: str,
                         rule: str = "add_image_location") -> int:
        raise StoreUnavailable("No store is configured.")

    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        raise StoreUnavailable("No staging area is configured.")

    def check_import(self, image: Image, request: ImportRequest) -> None:
        return None

    def check_api_rule(self, rule: str, image: Image | None = None) -> None:
        pass

    def check_visibility(self, image: Image, visibility: object) -> None:
        return None

    def readable(self, image: Image) -> Image:
        return image

    def check_property(self, image: Image, name: str, operation: str) -> None:
        return None

    def location_users(self, url: str) -> builtins.list[str]:
        return self.repo.location_users(url)

    def member_status(self, image: Image, member_id: str) -> str | None:
        return self.repo.member_status(image.id, member_id)

    def list_members(self, image: Image) -> builtins.list[Member]:
        return self.repo.list_members(image.id)

    def get_member(self, image: Image, member_id: str) -> Member:
        return self.repo.get_member(image.id, member_id)

    def fetch_member(self, image: Image, member_id: str) -> Member:
        return self.repo.get_member(image.id, member_id)

    def add_member(self, image: Image, member: Member) -> Member:
        return self.repo.add_member(member)

    def save_member(self, image: Image, before: Member, after: Member) -> Member:
        return self.repo.save_member(after)

    def remove_member(self, image: Image, member: Member) -> None:
        self.repo.remove_member(member)
