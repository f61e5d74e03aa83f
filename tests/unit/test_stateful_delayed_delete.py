"""Property-based: the status machine with Glance's delayed delete, through the real layer stack
(in-memory repository and store), the scrubber and restore.

Invariants after every step: each image only ever moves along ``TRANSITIONS`` (Glance's
table); ``pending_delete`` is reached only by deleting an image that has data, ``killed``
never (Glance 33 no longer sets it: a failed upload goes back to ``queued``); the data of a
``pending_delete`` image is all there, and no data is left behind otherwise.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from glance_domain import DomainError, NotFound
from glance_domain.model.status import TRANSITIONS
from glance_domain.scrub_memory import MemoryScrubQueue
from glance_domain.scrubber import Scrubber

from .helpers import World

PROJECTS = ("p1", "p2")


class DelayedDeleteLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World().new_world(delayed_delete=True)
        self.queue = MemoryScrubQueue(self.world.repo)
        self.ids: list[str] = []
        self.seen: dict[str, str] = {}  # last status observed per image
        self.had_data: set[str] = set()

    def pick(self, index: int) -> str | None:
        return self.ids[index % len(self.ids)] if self.ids else None

    def attempt(self, fn, *args, **kwargs):  # domain errors are legitimate outcomes
        try:
            return fn(*args, **kwargs)
        except DomainError:
            return None

    @rule(project=st.sampled_from(PROJECTS))
    def create(self, project: str) -> None:
        image = self.world.service(project).create_image(
            name="x", disk_format="raw", container_format="bare")
        self.ids.append(image.id)
        self.seen[image.id] = image.status

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), project=st.sampled_from(PROJECTS),
          data=st.lists(st.binary(max_size=20), max_size=3), fail=st.booleans())
    def upload(self, i: int, project: str, data: list[bytes], fail: bool) -> None:
        def failing():
            yield b"abc"
            raise DomainError("client went away")

        self.attempt(self.world.service(project).upload_data, self.pick(i),
                     failing() if fail else data)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), project=st.sampled_from(PROJECTS), admin=st.booleans(),
          op=st.sampled_from(["deactivate", "reactivate", "delete"]))
    def lifecycle(self, i: int, project: str, admin: bool, op: str) -> None:
        svc = self.world.service(project, admin=admin)
        action = {"deactivate": svc.deactivate_image, "reactivate": svc.reactivate_image,
                  "delete": svc.delete_image}[op]
        self.attempt(action, self.pick(i))

    @rule()
    def scrub(self) -> None:
        Scrubber(self.queue, self.world.stores, scrub_time=0, clock=self.world.clock).run()

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50))
    def restore(self, i: int) -> None:
        self.attempt(self.queue.restore, self.pick(i))

    # -- invariants -----------------------------------------------------------------------
    def _records(self):
        return dict(self.world.repo._images)  # every record, deleted ones included

    @invariant()
    def moves_follow_glances_table(self) -> None:
        for image_id, image in self._records().items():
            before, now = self.seen.get(image_id), image.status
            assert now != "killed"
            if before is not None and before != now:
                assert now in TRANSITIONS[before], f"{before} -> {now}"
                if now == "pending_delete":
                    assert before == "active" and image.locations
            self.seen[image_id] = now

    @invariant()
    def pending_data_is_kept_and_nothing_else_is_left(self) -> None:
        expected = 0
        for image in self._records().values():
            if image.status in ("active", "deactivated", "pending_delete"):
                expected += len(image.locations)
                for location in image.locations:
                    self.world.stores.read(location.url).close()  # NotFound: data lost
        assert self.world.stores.object_count() == expected

    @invariant()
    def pending_images_are_hidden(self) -> None:
        admin = self.world.service("root", admin=True)
        for image_id, image in self._records().items():
            if image.status == "pending_delete":
                try:
                    admin.get_image(image_id)
                except NotFound:
                    continue
                raise AssertionError(f"pending_delete image {image_id} is visible")


DelayedDeleteLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDelayedDeleteLifecycle = DelayedDeleteLifecycle.TestCase
