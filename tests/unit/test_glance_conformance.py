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
