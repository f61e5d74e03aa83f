"""The add-location API hashes the data at the new location in the background, as Glance's
``location_import`` task: with a hash to verify the image is active only if it matches (else
back to ``queued`` without the location), without one it is active at once and gets its
checksum and os_hash_value afterwards. Inline executor: the background work runs at once."""

from __future__ import annotations

import hashlib

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, MemoryStoreRegistry
from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput
from glance_domain.importing import InlineExecutor
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy

DATA = b"data at a location" * 100
SERVICE = RequestContext(project_id="p1", user_id="nova", roles=("service", "member"))


def _setup() -> tuple[Gateway, str]:
    gateway = Gateway(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(("fast", "slow")),
        policy=DefaultPolicy(), notifier=NullNotifier(), settings=DomainSettings(),
        executor=InlineExecutor(),
    )
    url = gateway.stores.write("somewhere", [DATA], backend="slow").url
    return gateway, url


def _queued(gateway: Gateway) -> str:
    svc = gateway.service(SERVICE)
    return svc.create_image(name="x", disk_format="raw", container_format="bare").id


def test_a_matching_hash_activates_with_computed_checksums() -> None:
    gateway, url = _setup()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    svc.add_location(image_id, url, validation_data={
        "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(DATA).hexdigest()})
    image = svc.get_image(image_id)
    assert (image.status, image.size) == ("active", len(DATA))
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    assert image.os_hash_value == hashlib.sha512(DATA).hexdigest()
    assert "os_glance_import_task" not in image.extra_properties
    (task,) = svc.image_tasks(image_id)
    assert (task.type, task.status) == ("location_import", "success")


def test_a_wrong_hash_leaves_the_image_queued_without_the_location() -> None:
    gateway, url = _setup()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    svc.add_location(image_id, url, validation_data={"os_hash_value": "ab" * 64})
    image = svc.get_image(image_id)
    assert image.status == "queued" and image.locations == ()
    assert (image.size, image.checksum, image.os_hash_value) == (None, None, None)
    (task,) = svc.image_tasks(image_id)
    assert task.status == "failure" and "not matched with actual os_hash_value" in task.message
    # the data where the location pointed is untouched, and the image can try again
    stream = gateway.stores.read(url)
    assert b"".join(stream) == DATA
    svc.add_location(image_id, url)
    assert svc.get_image(image_id).status == "active"


def test_without_a_hash_the_image_is_active_and_hashed_afterwards() -> None:
    gateway, url = _setup()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    svc.add_location(image_id, url)
    image = svc.get_image(image_id)
    assert image.status == "active"
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    assert (image.os_hash_algo, image.os_hash_value) == (
        "sha512", hashlib.sha512(DATA).hexdigest())


@pytest.mark.parametrize(("data", "text"), [
    ({"checksum": "0" * 32}, "'checksum' was unexpected"),
    ({"os_hash_value": "zz"}, "not a valid hexadecimal value"),
    ({"os_hash_value": "ab"}, "is not the correct size for (sha512)"),
    ({"os_hash_algo": "sha256", "os_hash_value": "ab" * 64}, "correct size for (sha256)"),
])
def test_bad_validation_data_is_refused_before_anything(data: dict[str, str], text: str) -> None:
    gateway, url = _setup()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    with pytest.raises(InvalidInput, match=text.replace("(", r"\(").replace(")", r"\)")):
        svc.add_location(image_id, url, validation_data=data)
    image = svc.get_image(image_id)
    assert image.status == "queued" and image.locations == ()


def test_a_stale_lock_is_taken_over_and_released() -> None:
    """A lock left by a task that no longer exists is taken over (as by imports); the image
    never stays ``importing`` and the lock goes when the task ends."""
    gateway, url = _setup()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    gateway.repository.set_property_atomic(image_id, "os_glance_import_task",
                                           "00000000-0000-0000-0000-000000000000",
                                           expected=None)
    svc.add_location(image_id, url, validation_data={
        "os_hash_value": hashlib.sha512(DATA).hexdigest().upper()})  # hex in any case
    image = svc.get_image(image_id)
    assert image.status == "active"
    assert "os_glance_import_task" not in image.extra_properties


class _ClosedPool:
    def submit(self, work: object) -> None:
        raise RuntimeError("pool shut down")


def test_an_unschedulable_hash_leaves_the_image_queued_and_unlocked() -> None:
    from glance_domain.errors import ServiceUnavailable

    gateway, url = _setup()
    gateway.importer.executor = _ClosedPool()
    svc = gateway.service(SERVICE)
    image_id = _queued(gateway)
    with pytest.raises(ServiceUnavailable):
        svc.add_location(image_id, url, validation_data={
            "os_hash_value": hashlib.sha512(DATA).hexdigest()})
    image = svc.get_image(image_id)
    assert image.status == "queued" and image.locations == ()
    assert "os_glance_import_task" not in image.extra_properties
