"""Domain behaviour that mirrors what a live Glance 33 answers (see tools/conformance.py)."""

from __future__ import annotations

from typing import Any

import pytest

from glance_domain import (
    Change,
    DomainSettings,
    Image,
    ImageFactory,
    InvalidInput,
    RequestContext,
    ReservedAttribute,
    apply_changes,
)

from .helpers import SteppingClock

SETTINGS = DomainSettings()
CTX = RequestContext(project_id="p1", roles=("member",))


def new(**attrs: Any) -> Image:
    return ImageFactory(SETTINGS, SteppingClock()).new_image(CTX, **attrs)


@pytest.mark.parametrize("field", ["min_ram", "min_disk"])
def test_min_values_are_32_bit_on_create(field: str) -> None:
    assert getattr(new(**{field: 2**31 - 1}), field) == 2**31 - 1
    with pytest.raises(InvalidInput) as err:
        new(**{field: 2**31})
    assert str(err.value) == f"'{field}' value out of range, must not exceed 2147483647."


@pytest.mark.parametrize("op", ["add", "replace"])
def test_min_values_are_32_bit_on_patch(op: str) -> None:
    with pytest.raises(InvalidInput, match="'min_disk' value out of range"):
        apply_changes(new(), [Change(op, ("min_disk",), 2**31)], SETTINGS)  # type: ignore[arg-type]


def test_negative_min_ram_text_is_glances() -> None:
    with pytest.raises(InvalidInput) as err:
        new(min_ram=-1)
    assert str(err.value) == (
        "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value"
    )


def test_os_hash_attributes_are_ignored_on_create() -> None:
    image = new(os_hash_value="abc", os_hash_algo="md5")
    assert (image.os_hash_algo, image.os_hash_value) == (None, None)
    assert "os_hash_value" not in image.extra_properties


def test_locations_on_create_are_reserved() -> None:
    with pytest.raises(ReservedAttribute) as err:
        new(locations=[])
    assert str(err.value) == "Attribute 'locations' is reserved."


def test_count_quota_texts_are_glances() -> None:
    from glance_domain import QuotaExceeded

    from .helpers import formats, make_world

    world = make_world(image_property_quota=2, image_tag_quota=1, image_member_quota=1)
    svc = world.service("p1")
    with pytest.raises(QuotaExceeded) as err:
        svc.create_image(a="1", b="2", c="3")
    assert str(err.value) == ("The limit has been exceeded on the number of allowed image "
                              "properties. Attempted: 3, Maximum: 2")
    with pytest.raises(QuotaExceeded) as err:
        svc.create_image(tags=["a", "b"])
    assert str(err.value).endswith("allowed image tags. Attempted: 2, Maximum: 1")
    image = svc.create_image(visibility="shared", **formats())
    svc.add_member(image.id, "p2")
    with pytest.raises(QuotaExceeded) as err:
        svc.add_member(image.id, "p3")
    assert str(err.value).endswith(
        "allowed image members for this image. Attempted: 2, Maximum: 1")


def test_size_cap_text_is_glances() -> None:
    from glance_domain import SizeLimitExceeded

    from .helpers import formats, make_world

    svc = make_world(image_size_cap=4).service("p1")
    image = svc.create_image(**formats())
    with pytest.raises(SizeLimitExceeded) as err:
        svc.upload_data(image.id, [b"12345"])
    assert str(err.value) == "The incoming image is too large: The provided image is too large."
