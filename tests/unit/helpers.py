"""Small real components for domain unit tests: a stepping clock and an in-memory world."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from glance_domain import (
    DefaultPolicy,
    DomainSettings,
    Gateway,
    ImageService,
    MemoryImageRepository,
    MemoryStoreRegistry,
    RecordingNotifier,
    RequestContext,
)
from glance_domain.errors import StoreUnavailable
from glance_domain.ports import StoredData


class SteppingClock:
    """Every call returns one second later than the previous one (deterministic ordering)."""

    def __init__(self) -> None:
        self._now = dt.datetime(2024, 1, 1, 0, 0, 0)

    def now(self) -> dt.datetime:
        self._now += dt.timedelta(seconds=1)
        return self._now


class RecordingPolicy(DefaultPolicy):
    """The default rules, remembering every rule checked (to prove each fires once)."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[str] = []

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        self.checked.append(rule)
        return super().check(context, rule, target)


class FailingStores(MemoryStoreRegistry):
    """A memory registry whose writes fail after consuming ``fail_after`` bytes."""

    fail_after: int | None = None

    def write(
        self, image_id: str, chunks: Iterable[bytes], *, backend: str | None = None,
        size: int | None = None, max_size: int | None = None,
    ) -> StoredData:
        if self.fail_after is None:
            return super().write(image_id, chunks, backend=backend, size=size, max_size=max_size)
        limit = self.fail_after

        def failing() -> Iterable[bytes]:
            seen = 0
            for chunk in chunks:
                seen += len(chunk)
                if seen > limit:
                    raise StoreUnavailable("disk on fire")
                yield chunk

        return super().write(image_id, failing(), backend=backend, size=size, max_size=max_size)


@attrs.define
class World:
    """A gateway over in-memory ports, and services for a few personas."""

    settings: DomainSettings = attrs.field(factory=DomainSettings)
    clock: SteppingClock = attrs.field(factory=SteppingClock)
    repo: MemoryImageRepository = attrs.field(init=False)
    stores: FailingStores = attrs.field(init=False)
    notifier: RecordingNotifier = attrs.field(factory=RecordingNotifier)
    policy: RecordingPolicy = attrs.field(factory=RecordingPolicy)
    gateway: Gateway = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.repo = MemoryImageRepository(self.clock)
        self.stores = FailingStores(("default", "fast"), default="default")
        self.gateway = Gateway(
            repository=self.repo, stores=self.stores, policy=self.policy,
            notifier=self.notifier, settings=self.settings, clock=self.clock,
        )

    def service(
        self, project: str | None, *roles: str, admin: bool = False, user: str = "u1"
    ) -> ImageService:
        roles = roles or (("admin",) if admin else ("member",))
        ctx = RequestContext(project_id=project, user_id=user, roles=roles, is_admin=admin)
        return self.gateway.service(ctx)

    def new_world(self, **settings: Any) -> World:
        return World(settings=attrs.evolve(self.settings, **settings))


def make_world(**settings: Any) -> World:
    return World(settings=DomainSettings(**settings))


def formats() -> dict[str, str]:
    return {"disk_format": "raw", "container_format": "bare"}
