"""Creation validation (ImageFactory) and JSON-patch semantics (apply_changes)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from glance_domain import (
    Change,
    Conflict,
    DomainSettings,
    Forbidden,
    Image,
    ImageFactory,
    InvalidInput,
    ReadOnlyAttribute,
    RequestContext,
    ReservedAttribute,
    apply_changes,
    diff,
)

from .helpers import SteppingClock

SETTINGS = DomainSettings()
CTX = RequestContext(project_id="p1", roles=("member",))


def new(**attrs: Any) -> Image:
    return ImageFactory(SETTINGS, SteppingClock()).new_image(CTX, **attrs)


def test_defaults_are_glances() -> None:
    image = new()
    assert uuid.UUID(image.id)
    assert (image.status, image.visibility, image.owner) == ("queued", "shared", "p1")
    assert (image.min_disk, image.min_ram, image.protected, image.os_hidden) == (0, 0, False, False)
    assert image.created_at == image.updated_at


def test_extra_properties_and_tags() -> None:
    image = new(name="n", tags=["a", "b", "a"], hw_disk_bus="virtio")
    assert image.tags == {"a", "b"}
    assert dict(image.extra_properties) == {"hw_disk_bus": "virtio"}


@pytest.mark.parametrize(
    ("attrs", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"name": "x" * 256}, "name"),
        ({"min_disk": -1}, "min_disk"),
        ({"min_ram": "1"}, "min_ram"),
        ({"min_ram": True}, "min_ram"),
        ({"visibility": "everyone"}, "visibility"),
        ({"protected": "yes"}, "protected"),
        ({"os_hidden": 1}, "os_hidden"),
        ({"disk_format": "exe"}, "disk_format"),
        ({"container_format": "zip"}, "container_format"),
        ({"tags": ["x" * 256]}, "tags"),
        ({"tags": "abc"}, "tags"),
        ({"prop": 5}, "prop"),
        ({"k" * 256: "v"}, "property name"),
    ],
)
def test_invalid_values_name_the_field(attrs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        new(**attrs)


@pytest.mark.parametrize("name", ["status", "checksum", "size", "created_at", "virtual_size"])
def test_read_only_refused(name: str) -> None:
    with pytest.raises(ReadOnlyAttribute, match=name):
        new(**{name: "x"})


@pytest.mark.parametrize("name", ["os_glance_import_task", "deleted", "location"])
def test_reserved_refused(name: str) -> None:
    with pytest.raises(ReservedAttribute, match=name):
        new(**{name: "x"})


def test_explicit_id_and_formats_kept() -> None:
    image_id = str(uuid.uuid4())
    image = new(id=image_id, disk_format="qcow2", container_format="bare")
    assert (image.id, image.disk_format, image.container_format) == (image_id, "qcow2", "bare")


# -- apply_changes ---------------------------------------------------------------------------

def patch(image: Image, *changes: tuple[str, str, Any]) -> Image:
    return apply_changes(
        image, [Change(op, tuple(path.strip("/").split("/")), v) for op, path, v in changes],
        SETTINGS,
    )


def test_add_replaces_existing_and_creates_new() -> None:
    image = new(name="a", k="1")
    after = patch(image, ("add", "/name", "b"), ("add", "/k", "2"), ("add", "/n", "3"))
    assert after.name == "b"
    assert dict(after.extra_properties) == {"k": "2", "n": "3"}
    assert dict(image.extra_properties) == {"k": "1"}  # the original is untouched


def test_replace_or_remove_missing_property_conflicts() -> None:
    image = new()
    with pytest.raises(Conflict, match="Property nope does not exist"):
        patch(image, ("replace", "/nope", "x"))
    with pytest.raises(Conflict, match="Property nope does not exist"):
        patch(image, ("remove", "/nope", None))


def test_remove_core_attribute_forbidden() -> None:
    with pytest.raises(Forbidden, match="Property name may not be removed"):
        patch(new(name="a"), ("remove", "/name", None))


def test_read_only_and_reserved_in_patch() -> None:
    with pytest.raises(ReadOnlyAttribute, match="'id' is read-only"):
        patch(new(), ("replace", "/id", str(uuid.uuid4())))
    with pytest.raises(ReadOnlyAttribute, match="'status' is read-only"):
        patch(new(), ("replace", "/status", "active"))
    with pytest.raises(ReservedAttribute, match="os_glance_x"):
        patch(new(), ("add", "/os_glance_x", "1"))


def test_tags_replace_and_all_or_nothing() -> None:
    image = new(tags=["a"])
    assert patch(image, ("replace", "/tags", ["b", "c"])).tags == {"b", "c"}
    with pytest.raises(InvalidInput):
        patch(image, ("replace", "/tags", ["ok"]), ("replace", "/min_ram", -5))


def test_formats_only_while_queued() -> None:
    import attrs

    active = attrs.evolve(new(disk_format="raw"), status="active")
    with pytest.raises(Forbidden, match="disk_format can be only replaced for a queued image"):
        patch(active, ("replace", "/disk_format", "qcow2"))


def test_locations_refused_when_invisible() -> None:
    loc = [{"url": "file:///x", "metadata": {}}]
    with pytest.raises(Forbidden, match="not allowed to update locations if locations are"):
        patch(new(), ("replace", "/locations", loc))
    with pytest.raises(Forbidden, match="not allowed to add locations if locations are invisible"):
        patch(new(), ("add", "/locations/-", loc[0]))
    with pytest.raises(Forbidden) as err:
        patch(new(), ("replace", "/locations", []))
    assert str(err.value) == "Cannot set locations to empty list."


def test_diff_reports_what_changed() -> None:
    image = new(name="a", k="1", tags=["t"])
    after = patch(image, ("replace", "/name", "b"), ("remove", "/k", None),
                  ("add", "/n", "2"), ("replace", "/tags", ["u"]))
    d = diff(image, after)
    assert d.fields == {"name"}
    assert (d.added_properties, d.removed_properties) == ({"n"}, {"k"})
    assert (d.added_tags, d.removed_tags) == ({"u"}, {"t"})
    assert not diff(image, image)
