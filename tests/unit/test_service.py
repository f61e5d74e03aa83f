"""ImageService over the real layer stack with in-memory ports: data, lifecycle, policy firing,
notifications, quotas."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from glance_domain import (
    Change,
    Conflict,
    Forbidden,
    ImageQuery,
    InvalidInput,
    NotFound,
    PolicyDenied,
    QuotaExceeded,
    RangeNotSatisfiable,
    RequestContext,
    SizeLimitExceeded,
    StoreUnavailable,
)
from glance_domain.model.location import Location
from glance_domain.ports import DataStream

from .helpers import RecordingPolicy, World, formats


def uploaded(world: World, data: bytes = b"hello world", project: str = "p1"):
    svc = world.service(project)
    image = svc.create_image(name="img", **formats())
    return svc, svc.upload_data(image.id, [data[:4], data[4:]])


def test_upload_activates_with_hashes_and_location(world: World) -> None:
    _svc, image = uploaded(world)
    assert image.status == "active" and image.size == 11
    assert image.checksum == hashlib.md5(b"hello world").hexdigest()
    assert (image.os_hash_algo, image.os_hash_value) == (
        "sha512", hashlib.sha512(b"hello world").hexdigest())
    assert [loc.backend for loc in image.locations] == ["default"]


def test_upload_to_named_backend(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())
    assert svc.upload_data(image.id, [b"x"], backend="fast").locations[0].backend == "fast"


def test_upload_needs_formats(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(name="x")
    with pytest.raises(InvalidInput, match="must be set prior to saving data"):
        svc.upload_data(image.id, [b"x"])
    assert svc.get_image(image.id).status == "queued"


def test_second_upload_conflicts(world: World) -> None:
    svc, image = uploaded(world)
    with pytest.raises(Conflict, match="from active to saving"):
        svc.upload_data(image.id, [b"again"])


def _assert_clean(world: World, image_id: str) -> None:
    image = world.repo.get(image_id)
    assert image.status == "queued" and image.locations == () and image.size is None
    assert world.stores.object_count() == 0


def test_store_failure_restores_queued(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())
    world.stores.fail_after = 3
    with pytest.raises(StoreUnavailable):
        svc.upload_data(image.id, [b"abcd", b"efgh"])
    _assert_clean(world, image.id)
    world.stores.fail_after = None
    assert svc.upload_data(image.id, [b"retry"]).status == "active"  # retry works


def test_size_cap_trips_while_streaming(world: World) -> None:
    world = world.new_world(image_size_cap=5)
    svc = world.service("p1")
    image = svc.create_image(**formats())
    consumed = []

    def chunks() -> Iterator[bytes]:
        for c in (b"abc", b"def", b"ghi"):
            consumed.append(c)
            yield c

    with pytest.raises(SizeLimitExceeded):
        svc.upload_data(image.id, chunks())
    assert consumed == [b"abc", b"def"]  # stopped as soon as the cap was passed
    _assert_clean(world, image.id)
    with pytest.raises(SizeLimitExceeded):
        svc.upload_data(image.id, [b"x"], size=6)  # announced size refused up front


def test_storage_quota(world: World) -> None:
    world = world.new_world(user_storage_quota=10)
    svc, _ = uploaded(world, b"12345678")
    image = svc.create_image(**formats())
    with pytest.raises(SizeLimitExceeded, match="storage quota"):
        svc.upload_data(image.id, [b"abc"])
    assert world.repo.get(image.id).status == "queued"
    assert world.stores.object_count() == 1


def test_client_disconnect_leaves_nothing(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())

    def disconnecting() -> Iterator[bytes]:
        yield b"abc"
        raise GeneratorExit

    with pytest.raises(GeneratorExit):
        svc.upload_data(image.id, disconnecting())
    _assert_clean(world, image.id)


def test_size_mismatch_refused(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())
    # Glance 33's answer: a 400 (InvalidInput), not the 413 of a size limit
    with pytest.raises(InvalidInput, match="Size mismatch: expected 4 bytes, got 3 bytes"):
        svc.upload_data(image.id, [b"abc"], size=4)
    _assert_clean(world, image.id)


def test_download_ranges(world: World) -> None:
    svc, image = uploaded(world)
    full = svc.download_data(image.id)
    assert full is not None and b"".join(full.stream) == b"hello world"
    assert (full.offset, full.length, full.total_size) == (0, 11, 11)
    part = svc.download_data(image.id, offset=6, length=5)
    assert part is not None and b"".join(part.stream) == b"world" and part.length == 5
    for offset, length in ((11, None), (5, 7), (-1, None)):
        with pytest.raises(RangeNotSatisfiable):
            svc.download_data(image.id, offset=offset, length=length)


def test_download_of_queued_image_is_none(world: World) -> None:
    svc = world.service("p1")
    assert svc.download_data(svc.create_image(**formats()).id) is None


def test_deactivate_reactivate(world: World) -> None:
    svc, image = uploaded(world)
    admin = world.service("a", admin=True)
    assert svc.deactivate_image(image.id).status == "deactivated"
    assert svc.deactivate_image(image.id).status == "deactivated"  # idempotent
    with pytest.raises(Forbidden, match="deactivated"):
        svc.download_data(image.id)
    download = admin.download_data(image.id)
    assert download is not None
    download.stream.close()
    assert svc.reactivate_image(image.id).status == "active"
    assert svc.reactivate_image(image.id).status == "active"
    queued = svc.create_image(**formats())
    with pytest.raises(Forbidden, match="Not allowed to deactivate image in status 'queued'"):
        svc.deactivate_image(queued.id)


def test_delete_removes_data_and_never_comes_back(world: World) -> None:
    svc, image = uploaded(world)
    svc.delete_image(image.id)
    assert world.stores.object_count() == 0
    with pytest.raises(NotFound):
        svc.get_image(image.id)
    assert svc.list_images(ImageQuery()) == []
    from glance_domain import Duplicate

    with pytest.raises(Duplicate):
        svc.create_image(id=image.id)
    world.repo.purge()
    with pytest.raises(Duplicate):
        svc.create_image(id=image.id)


def test_protected_images_cannot_be_deleted(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(protected=True)
    with pytest.raises(Forbidden, match="protected"):
        svc.delete_image(image.id)
    svc.update_image(image.id, [Change("replace", ("protected",), False)])
    svc.delete_image(image.id)


def test_delete_from_store(world: World) -> None:
    svc, image = uploaded(world)
    admin = world.service("a", admin=True)
    with pytest.raises(Forbidden, match="only store"):
        admin.delete_from_store(image.id, "default")
    with pytest.raises(Forbidden, match="only store"):  # Glance: before looking at the store
        admin.delete_from_store(image.id, "fast")
    with pytest.raises(Forbidden, match="delete_image_location"):  # admin-only rule
        svc.delete_from_store(image.id, "default")
    copy = world.stores.write(image.id, [b"hello world"], backend="fast")
    world.repo.save(image, attrs.evolve(image, locations=(
        *image.locations, Location(url=copy.url, metadata={"store": "fast"}))))
    with pytest.raises(NotFound, match="not available in store"):
        admin.delete_from_store(image.id, "slow")
    kept = admin.delete_from_store(image.id, "fast")
    assert [loc.backend for loc in kept.locations] == ["default"]


def test_tags(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image()
    assert svc.add_tag(image.id, "a").tags == {"a"}
    assert svc.remove_tag(image.id, "a").tags == set()
    with pytest.raises(NotFound):
        svc.remove_tag(image.id, "a")


# -- policy fires once ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("call", "rules"),
    [
        (lambda s, i: s.get_image(i), ["get_image"]),
        (lambda s, i: s.update_image(i, [Change("replace", ("name",), "n")]), ["modify_image"]),
        (lambda s, i: s.update_image(i, [Change("replace", ("visibility",), "community")]),
         ["communitize_image", "modify_image"]),  # Glance's order
        (lambda s, i: s.deactivate_image(i), ["deactivate"]),
        (lambda s, i: s.delete_image(i), ["delete_image"]),
        (lambda s, i: s.add_member(i, "p2"), ["add_member"]),
        (lambda s, i: s.list_members(i), ["get_members"]),
    ],
)
def test_each_rule_fires_once(world: World, call, rules) -> None:
    _svc, image = uploaded(world)
    svc = world.service("p1")
    world.policy.checked.clear()
    call(svc, image.id)
    assert world.policy.checked == rules


def test_list_checks_get_images_then_each_image(world: World) -> None:
    svc = world.service("p1")
    svc.create_image()
    svc.create_image()
    world.policy.checked.clear()
    assert len(svc.list_images(ImageQuery())) == 2
    assert world.policy.checked == ["get_images", "get_image", "get_image"]


def test_reader_cannot_write(world: World) -> None:
    owner = world.service("p1")
    image = owner.create_image()
    reader = world.service("p1", "reader")
    assert reader.get_image(image.id).id == image.id
    with pytest.raises(Forbidden, match="modify_image"):
        reader.update_image(image.id, [Change("replace", ("name",), "n")])
    with pytest.raises(Forbidden):
        reader.create_image()


# -- notifications --------------------------------------------------------------------------

def test_notification_sequence_and_payloads(world: World) -> None:
    svc, image = uploaded(world)
    svc.add_member(image.id, "p2")
    svc.delete_image(image.id)
    events = world.notifier.events
    assert [e.event_type for e in events] == [
        "image.create", "image.prepare", "image.upload", "image.activate",
        "image.member.create", "image.delete",
    ]
    create = events[0].payload
    assert set(create) == {
        "id", "name", "status", "created_at", "updated_at", "min_disk", "min_ram", "protected",
        "checksum", "owner", "disk_format", "container_format", "size", "virtual_size",
        "is_public", "visibility", "properties", "tags", "deleted", "deleted_at",
    }
    assert create["status"] == "queued" and create["created_at"].endswith("Z")
    assert events[2].payload["os_glance_importing_to_stores"] == []
    assert events[3].payload["status"] == "active"
    assert events[4].payload["member_id"] == "p2"
    assert events[5].payload["deleted"] is True and events[5].payload["deleted_at"]


def test_failed_upload_and_send_notifications(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())
    world.stores.fail_after = 0
    with pytest.raises(StoreUnavailable):
        svc.upload_data(image.id, [b"x"])
    last = world.notifier.events[-1]
    assert (last.event_type, last.level) == ("image.upload", "ERROR")
    world.stores.fail_after = None
    svc.upload_data(image.id, [b"abc"])
    with pytest.raises(NotFound):  # shared, p2 is not a member: invisible
        world.service("p2").download_data(image.id)
    download = svc.download_data(image.id)
    assert download is not None
    assert b"".join(download.stream) == b"abc"
    send = world.notifier.events[-1]
    assert send.event_type == "image.send" and send.payload["bytes_sent"] == 3
    assert send.payload["receiver_tenant_id"] == "p1"


def test_count_quotas(world: World) -> None:
    world = world.new_world(image_property_quota=1, image_tag_quota=1, image_member_quota=1,
                            image_count_quota=2)
    svc = world.service("p1")
    with pytest.raises(QuotaExceeded, match="properties"):
        svc.create_image(a="1", b="2")
    image = svc.create_image(a="1", tags=["t"])
    with pytest.raises(QuotaExceeded, match="properties"):
        svc.update_image(image.id, [Change("add", ("b",), "2")])
    with pytest.raises(QuotaExceeded, match="tags"):
        svc.add_tag(image.id, "u")
    svc.add_member(image.id, "p2")
    with pytest.raises(QuotaExceeded, match="members"):
        svc.add_member(image.id, "p3")
    svc.create_image()
    with pytest.raises(QuotaExceeded, match="images"):
        svc.create_image()


def test_refused_upload_sends_no_events(world: World) -> None:
    svc, image = uploaded(world)
    world.notifier.clear()
    with pytest.raises(Conflict):
        svc.upload_data(image.id, [b"x"])
    assert world.notifier.events == []


def test_error_notification_payload_is_a_mapping(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(**formats())
    world.stores.fail_after = 0
    with pytest.raises(StoreUnavailable):
        svc.upload_data(image.id, [b"x"])
    payload = world.notifier.events[-1].payload
    assert payload["image_id"] == image.id and "disk on fire" in payload["message"]


def test_adding_a_location_is_checked_before_the_store_is_read() -> None:
    """The size of the data at a new location comes from a store read (for an http URL, a
    request to that server): the add_image_location rule and the ownership check come first,
    so a refused caller never makes the service touch the URL."""
    events: list[str] = []

    class DenyingPolicy(RecordingPolicy):
        deny: set[str] = set()

        def check(self, context: RequestContext, rule: str, target: Any) -> bool:
            events.append(rule)
            return rule not in self.deny and super().check(context, rule, target)

    world = World(policy=DenyingPolicy())
    original_read = world.stores.read

    def recording_read(url: str, *, offset: int = 0, length: int | None = None) -> DataStream:
        events.append(f"read {url}")
        return original_read(url, offset=offset, length=length)

    world.stores.read = recording_read  # type: ignore[method-assign]
    stored = world.stores.write("source", [b"payload"], backend="fast")
    service = world.service("p1", "member", "service")
    image = service.create_image(name="x", disk_format="raw", container_format="bare")

    DenyingPolicy.deny = {"add_image_location"}
    with pytest.raises(PolicyDenied):
        service.add_location(image.id, stored.url)
    assert not any(e.startswith("read ") for e in events)
    other = world.service("p2", "member", "service")
    with pytest.raises((PolicyDenied, NotFound)):
        other.add_location(image.id, stored.url)
    assert not any(e.startswith("read ") for e in events)

    DenyingPolicy.deny = set()
    events.clear()
    added = service.add_location(image.id, stored.url)
    assert (added.status, added.size) == ("active", len(b"payload"))
    assert events.index("add_image_location") < events.index(f"read {stored.url}")
    assert events.count("add_image_location") == 1  # fired once per operation
