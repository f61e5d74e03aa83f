"""Validation of client-supplied image attributes, with Glance's rules and field-naming messages.

Shared by the factory (create) and ``changes.apply_changes`` (update), so both accept exactly the
same values. Every failure is a domain error naming the field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from glance_domain.errors import InvalidInput, ReadOnlyAttribute, ReservedAttribute
from glance_domain.model.image import READ_ONLY_ATTRIBUTES, VISIBILITIES
from glance_domain.settings import DomainSettings

MAX_LENGTH = 255
#: Largest value of the 32-bit signed integer columns (``min_disk``, ``min_ram``).
MAX_INT32 = 2**31 - 1
RESERVED_PREFIX = "os_glance"
#: Characters outside the Basic Multilingual Plane (4 bytes in UTF-8): Glance refuses them in
#: names and property values (MySQL's 3-byte ``utf8`` columns cannot store them).
_FOUR_BYTE = re.compile("[\U00010000-\U0010ffff]")
#: Names that are neither core attributes nor allowed as extra properties (Glance's list).
RESERVED_NAMES = frozenset({"location", "deleted", "deleted_at"})
#: Core attributes a client may write.
WRITABLE_ATTRIBUTES = frozenset(
    {
        "id", "name", "visibility", "protected", "os_hidden", "owner", "min_disk", "min_ram",
        "container_format", "disk_format", "tags",
    }
)


def check_writable_name(name: str) -> None:
    """Refuse read-only attributes and reserved property names (Forbidden subclasses)."""
    if name in READ_ONLY_ATTRIBUTES:
        raise ReadOnlyAttribute(f"Attribute '{name}' is read-only.")
    if name in RESERVED_NAMES:
        raise ReservedAttribute(f"Attribute '{name}' is reserved.")
    if name.startswith(RESERVED_PREFIX):
        raise ReservedAttribute(f"Attribute '{name}' is reserved.")


def image_id(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("Invalid value for 'id': it must be a UUID string.")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"Invalid value for 'id': {value!r} is not a valid UUID.") from None
    if str(parsed) != value.lower() or len(value) != 36:
        raise InvalidInput(f"Invalid value for 'id': {value!r} is not a valid UUID.")
    return value


def no_four_byte(field: str, value: str) -> str:
    """Refuse characters beyond U+FFFF in ``value`` with Glance's message naming ``field``."""
    if _FOUR_BYTE.search(value):
        raise InvalidInput(f"{field.title()} can't contain 4 byte unicode characters.")
    return value


def optional_string(field: str, value: Any, max_length: int = MAX_LENGTH) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid value for '{field}': it must be a string or null.")
    if len(value) > max_length:
        raise InvalidInput(f"Invalid value for '{field}': longer than {max_length} characters.")
    return no_four_byte(field, value)


def non_negative_int(field: str, value: Any) -> int:
    """A 32-bit non-negative integer (Glance stores ``min_disk``/``min_ram`` as INT)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema's "integer" takes 1.0, and so does Glance
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"Invalid value for '{field}': it must be an integer.")
    if value < 0:
        raise InvalidInput(f"Invalid value '{value}' for parameter '{field}': "
                           "Cannot be a negative value")
    if value > MAX_INT32:
        raise InvalidInput(f"'{field}' value out of range, must not exceed {MAX_INT32}.")
    return value


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"Invalid value for '{field}': it must be a boolean.")
    return value


def visibility(value: Any) -> str:
    if value not in VISIBILITIES:
        raise InvalidInput(
            'Invalid value for \'visibility\': must be one of "community", "public", '
            '"private", or "shared".'
        )
    return str(value)


def choice(field: str, value: Any, allowed: Iterable[str]) -> str | None:
    if value is None:
        return None
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(
            f"Invalid value for '{field}': {value!r} is not one of {', '.join(allowed)}."
        )
    return value


def tags(value: Any) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidInput("Invalid value for 'tags': it must be a list of strings.")
    out = []
    for tag in value:
        out.append(tag_value(tag))
    if any(_FOUR_BYTE.search(tag) for tag in out):  # Glance's check of each stored tag
        raise InvalidInput("Param values can't contain 4 byte unicode.")
    return frozenset(out)


def tag_value(tag: Any) -> str:
    if not isinstance(tag, str):
        raise InvalidInput("Invalid value for 'tags': every tag must be a string.")
    if len(tag) > MAX_LENGTH:
        raise InvalidInput(f"Invalid value for 'tags': tag longer than {MAX_LENGTH} characters.")
    return tag


def property_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("Invalid property name: it must be a non-empty string.")
    if len(name) > MAX_LENGTH:
        raise InvalidInput(f"Invalid property name '{name[:40]}...': longer than "
                           f"{MAX_LENGTH} characters.")
    check_writable_name(name)
    if _FOUR_BYTE.search(name):
        raise InvalidInput("Property names can't contain 4 byte unicode.")
    return name


def property_value(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid value for '{name}': extra properties must be strings.")
    return no_four_byte(name, value)


def attribute(name: str, value: Any, settings: DomainSettings) -> Any:
    """Validate one writable core attribute; return the normalized value."""
    if name == "id":
        return image_id(value)
    if name == "name":
        return optional_string("name", value)
    if name == "owner":
        return optional_string("owner", value)
    if name in ("min_disk", "min_ram"):
        return non_negative_int(name, value)
    if name in ("protected", "os_hidden"):
        return boolean(name, value)
    if name == "visibility":
        return visibility(value)
    if name == "disk_format":
        return choice(name, value, settings.disk_formats)
    if name == "container_format":
        return choice(name, value, settings.container_formats)
    if name == "tags":
        return tags(value)
    raise InvalidInput(f"Unknown attribute '{name}'.")  # pragma: no cover - caller checks
