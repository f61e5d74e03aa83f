"""PATCH on /locations with ``show_multiple_locations`` (Glance's rules), in the domain over
in-memory stores: add (queued -> active with validation data), quota, duplicates, unknown or
empty URLs, metadata-only replace, remove (data deleted), last location, statuses."""

from __future__ import annotations

import hashlib

import pytest

from glance_domain.changes import Change
from glance_domain.errors import Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded

from .helpers import World, formats, make_world

DATA = b"location data"


def _world() -> World:
    return make_world(show_multiple_locations=True, image_location_quota=2)


def _add(url: str, where: str = "-", **value: object) -> list[Change]:
    return [Change("add", ("locations", where), {"url": url, "metadata": {}, **value})]


def test_add_and_remove_locations_of_an_active_image() -> None:
    w = _world()
    svc = w.service("p1")
    image = svc.upload_data(svc.create_image(name="i", **formats()).id, [DATA])
    copy = w.stores.write(image.id, [DATA], backend="fast")
    added = svc.update_image(image.id, _add(copy.url, metadata_ignored="x"))
    assert [loc.backend for loc in added.locations] == ["default", "fast"]
    assert added.status == "active" and added.size == len(DATA)
    with pytest.raises(QuotaExceeded):  # at the quota, Glance checks it before duplicates
        svc.update_image(image.id, _add(copy.url))
    third = w.stores.write(image.id + "-3", [DATA], backend="default")
    with pytest.raises(QuotaExceeded):
        svc.update_image(image.id, _add(third.url))
    first_url = added.locations[0].url
    with pytest.raises(Forbidden, match="delete_image_location"):  # admins only, as Glance
        svc.update_image(image.id, [Change("remove", ("locations", "0"))])
    admin = w.service("admin", admin=True)
    kept = admin.update_image(image.id, [Change("remove", ("locations", "0"))])
    assert [loc.url for loc in kept.locations] == [copy.url]
    with pytest.raises(NotFound):  # the removed location's data is gone from its store
        w.stores.read(first_url)
    with pytest.raises(Forbidden, match="Cannot remove last location"):
        admin.update_image(image.id, [Change("remove", ("locations", "0"))])
    download = svc.download_data(image.id)
    assert download is not None and b"".join(download.stream) == DATA


def test_adding_a_location_activates_a_queued_image_with_validation_data() -> None:
    w = _world()
    svc = w.service("p1")
    image = svc.create_image(name="q", **formats())
    stored = w.stores.write("elsewhere", [DATA], backend="fast")
    with pytest.raises(Conflict, match="os_hash_algo must be sha512"):
        svc.update_image(image.id, _add(stored.url, validation_data={
            "checksum": hashlib.md5(DATA).hexdigest()}))
    with pytest.raises(Conflict, match="not the correct size"):
        svc.update_image(image.id, _add(stored.url, validation_data={
            "os_hash_algo": "sha512", "os_hash_value": "ab"}))
    active = svc.update_image(image.id, _add(stored.url, validation_data={
        "checksum": hashlib.md5(DATA).hexdigest(), "os_hash_algo": "sha512",
        "os_hash_value": hashlib.sha512(DATA).hexdigest()}))
    assert (active.status, active.size) == ("active", len(DATA))
    assert active.checksum == hashlib.md5(DATA).hexdigest()
    assert active.os_hash_value == hashlib.sha512(DATA).hexdigest()
    with pytest.raises(Conflict, match="already set with a different value"):
        svc.update_image(image.id, _add(stored.url + "x", validation_data={
            "checksum": "0" * 32}))


def test_refused_locations_and_statuses() -> None:
    w = _world()
    svc = w.service("p1")
    image = svc.create_image(name="q", **formats())
    with pytest.raises(InvalidInput, match="Invalid location"):
        svc.update_image(image.id, _add("memory://default/nothing-here"))
    with pytest.raises(InvalidInput, match="Invalid location"):
        svc.update_image(image.id, _add("gopher://example/x"))
    with pytest.raises(InvalidInput, match="Invalid position"):
        svc.update_image(image.id, _add("memory://default/x", where="first"))
    with pytest.raises(Conflict, match="remove locations if image status is queued"):
        w.service("admin", admin=True).update_image(
            image.id, [Change("remove", ("locations", "0"))])
    with pytest.raises(Forbidden, match="Cannot set locations to empty list"):
        svc.update_image(image.id, [Change("replace", ("locations",), [])])
    active = svc.upload_data(svc.create_image(name="a", **formats()).id, [DATA])
    w.service("admin", admin=True).deactivate_image(active.id)
    with pytest.raises(Conflict, match="add locations if image status is deactivated"):
        svc.update_image(active.id, _add("memory://default/x"))


def test_replace_changes_metadata_only_or_fills_an_empty_list() -> None:
    w = _world()
    svc = w.service("p1")
    image = svc.upload_data(svc.create_image(name="i", **formats()).id, [DATA])
    (location,) = image.locations
    same = svc.update_image(image.id, [Change("replace", ("locations",), [
        {"url": location.url, "metadata": {"note": "n"}}])])
    assert same.locations[0].metadata == {"note": "n", "store": "default"}
    for metadata in ({"note": "n"}, {"note": "m"}):  # a URL is listed once, whatever metadata
        with pytest.raises(InvalidInput, match="already exists"):
            svc.update_image(image.id, _add(location.url, metadata=metadata))
    other = w.stores.write("other", [DATA], backend="fast")
    with pytest.raises(InvalidInput, match="Original locations is not empty"):
        svc.update_image(image.id, [Change("replace", ("locations",), [
            {"url": other.url, "metadata": {}}])])
    queued = svc.create_image(name="q", **formats())
    filled = svc.update_image(queued.id, [Change("replace", ("locations",), [
        {"url": other.url, "metadata": {}}])])
    assert filled.status == "active" and filled.locations[0].backend == "fast"


def test_without_show_multiple_locations_patches_are_refused() -> None:
    w = make_world()
    svc = w.service("p1")
    image = svc.create_image(name="q", **formats())
    with pytest.raises(Forbidden, match="locations are invisible"):
        svc.update_image(image.id, _add("memory://default/x"))


def test_other_projects_and_readers_cannot_patch_locations() -> None:
    w = _world()
    owner = w.service("p1")
    image = owner.upload_data(owner.create_image(name="i", **formats()).id, [DATA])
    copy = w.stores.write(image.id, [DATA], backend="fast")
    with pytest.raises((NotFound, Forbidden)):  # never a change
        w.service("p2").update_image(image.id, _add(copy.url))
    with pytest.raises(Forbidden):
        w.service("p1", "reader").update_image(image.id, _add(copy.url))
    assert len(owner.get_image(image.id).locations) == 1


def test_a_new_location_counts_against_the_storage_quota() -> None:
    w = make_world(show_multiple_locations=True, user_storage_quota=len(DATA) + 5)
    svc = w.service("p1")
    image = svc.upload_data(svc.create_image(name="i", **formats()).id, [DATA])
    copy = w.stores.write(image.id, [DATA], backend="fast")
    with pytest.raises(QuotaExceeded, match=f"The size of the data {len(DATA)} will exceed "
                                            "the limit. 5 bytes remaining."):
        svc.update_image(image.id, _add(copy.url))
    assert len(svc.get_image(image.id).locations) == 1


def test_local_file_urls_are_never_accepted_by_a_patch() -> None:
    """``file://`` (and Glance's other restricted schemes) would let a caller point an image at
    another image's file on this host: refused for everyone, admins included."""
    w = _world()
    admin = w.service("admin", admin=True)
    image = admin.create_image(name="q", **formats())
    for url in ("file:///var/lib/glance/images/other", "filesystem:///x",
                "swift+config://ref/container/obj"):
        with pytest.raises(InvalidInput, match="Invalid location"):
            admin.update_image(image.id, _add(url))
    assert admin.get_image(image.id).locations == ()


def test_operations_apply_in_the_order_given() -> None:
    """As Glance: once a location made the queued image active, a later disk_format change
    is refused (a format can only change on a queued image); before it, it is accepted."""
    w = _world()
    svc = w.service("p1")
    stored = w.stores.write("elsewhere", [DATA], backend="fast")
    image = svc.create_image(name="q", **formats())
    with pytest.raises(Forbidden, match="can be only replaced for a queued image"):
        svc.update_image(image.id, [*_add(stored.url),
                                    Change("replace", ("disk_format",), "qcow2")])
    assert svc.get_image(image.id).status == "queued"
    done = svc.update_image(image.id, [Change("replace", ("disk_format",), "iso"),
                                       *_add(stored.url)])
    assert (done.disk_format, done.status) == ("iso", "active")
