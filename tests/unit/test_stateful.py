"""Property-based: random operation sequences through the real layer stack (in-memory repo and
store), with the invariants checked after every step."""

from __future__ import annotations

from collections.abc import Iterator

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from glance_domain import Change, DomainError, ImageQuery, NotFound

from .helpers import World

PROJECTS = ("p1", "p2", "p3")


class ImageLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World().new_world(image_size_cap=64)
        self.ids: list[str] = []
        self.deleted: set[str] = set()
        self.frozen: dict[str, tuple[object, ...]] = {}  # data attributes once active

    def svc(self, project: str, admin: bool = False):
        return self.world.service(project, admin=admin)

    def pick(self, index: int) -> str | None:
        return self.ids[index % len(self.ids)] if self.ids else None

    def attempt(self, fn, *args, **kwargs):  # domain errors are legitimate outcomes
        try:
            return fn(*args, **kwargs)
        except DomainError:
            return None

    # -- operations -----------------------------------------------------------------------
    @rule(project=st.sampled_from(PROJECTS), with_formats=st.booleans(),
          vis=st.sampled_from(["shared", "private", "community"]))
    def create(self, project: str, with_formats: bool, vis: str) -> None:
        attrs = {"disk_format": "raw", "container_format": "bare"} if with_formats else {}
        image = self.svc(project).create_image(name="x", visibility=vis, **attrs)
        self.ids.append(image.id)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), project=st.sampled_from(PROJECTS),
          data=st.lists(st.binary(max_size=40), max_size=4))
    def upload(self, i: int, project: str, data: list[bytes]) -> None:
        self.attempt(self.svc(project).upload_data, self.pick(i), data)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), how=st.sampled_from(["store", "disconnect", "mismatch"]))
    def failing_upload(self, i: int, how: str) -> None:
        image_id = self.pick(i)
        svc = self.svc("p1", admin=True)

        def disconnecting() -> Iterator[bytes]:
            yield b"abc"
            raise GeneratorExit

        try:
            if how == "store":
                self.world.stores.fail_after = 2
                svc.upload_data(image_id, [b"abc", b"def"])
            elif how == "disconnect":
                svc.upload_data(image_id, disconnecting())
            else:
                svc.upload_data(image_id, [b"abc"], size=10)
        except (DomainError, GeneratorExit):
            pass
        finally:
            self.world.stores.fail_after = None

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), project=st.sampled_from(PROJECTS), admin=st.booleans(),
          op=st.sampled_from(["deactivate", "reactivate", "delete", "rename", "protect"]))
    def lifecycle(self, i: int, project: str, admin: bool, op: str) -> None:
        image_id = self.pick(i)
        svc = self.svc(project, admin)
        if op == "deactivate":
            self.attempt(svc.deactivate_image, image_id)
        elif op == "reactivate":
            self.attempt(svc.reactivate_image, image_id)
        elif op == "rename":
            self.attempt(svc.update_image, image_id, [Change("replace", ("name",), "y")])
        elif op == "protect":
            self.attempt(svc.update_image, image_id, [Change("replace", ("protected",), True)])
        else:
            try:
                svc.delete_image(image_id)
                self.deleted.add(image_id)
            except DomainError:
                pass

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), owner=st.sampled_from(PROJECTS),
          member=st.sampled_from(PROJECTS), status=st.sampled_from(["accepted", "rejected"]))
    def members(self, i: int, owner: str, member: str, status: str) -> None:
        image_id = self.pick(i)
        self.attempt(self.svc(owner).add_member, image_id, member)
        self.attempt(self.svc(member).update_member, image_id, member, status)

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def data_invariants(self) -> None:
        admin = self.svc("root", admin=True)
        live_locations = 0
        for image_id in self.ids:
            if image_id in self.deleted:
                continue
            image = admin.get_image(image_id)
            if image.status in ("active", "deactivated"):
                assert image.size is not None and image.checksum and image.os_hash_value
                assert image.os_hash_algo == "sha512" and len(image.locations) >= 1
                data = (image.size, image.checksum, image.os_hash_algo, image.os_hash_value)
                assert self.frozen.setdefault(image_id, data) == data
            else:
                assert image.status == "queued"
                assert image.locations == () and image.size is None
                assert image_id not in self.frozen
            live_locations += len(image.locations)
        # no data is left behind by failures or deletes
        assert self.world.stores.object_count() == live_locations

    @invariant()
    def deleted_stay_deleted(self) -> None:
        if not self.deleted:
            return
        for project, admin in (("root", True), ("p1", False), ("p2", False)):
            svc = self.svc(project, admin)
            listed = {i.id for i in svc.list_images(ImageQuery(visibility="all", limit=1000))}
            assert not listed & self.deleted
            for image_id in self.deleted:
                try:
                    svc.get_image(image_id)
                except NotFound:
                    continue
                raise AssertionError(f"deleted image {image_id} visible to {project}")


ImageLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestImageLifecycle = ImageLifecycle.TestCase
