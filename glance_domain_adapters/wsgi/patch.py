"""Parsing of ``PATCH /v2/images/{id}`` bodies into domain :class:`Change` objects.

Two media types, as Glance: ``application/openstack-images-v2.1-json-patch`` (RFC 6902 style
``{"op": "replace", "path": "/name", "value": ...}``) and the older
``application/openstack-images-v2.0-json-patch`` (``{"replace": "/name", "value": ...}``, where
``add`` of an existing property is a conflict). Pointers are validated and decoded, path depth
checked (only ``locations`` takes a second segment), read-only and reserved names refused (403)
and values checked against the image schema (400) before anything reaches the domain.
"""

from __future__ import annotations

import re
from typing import Any

from glance_domain.changes import Change
from glance_domain_adapters.wsgi.errors import bad_request, forbidden
from glance_domain_adapters.wsgi.schemas import SchemaValidator

MEDIA_TYPES = {
    "application/openstack-images-v2.0-json-patch": 4,
    "application/openstack-images-v2.1-json-patch": 10,
}
ACCEPT_PATCH = ", ".join(sorted(MEDIA_TYPES))
OPERATIONS = ("add", "remove", "replace")
READ_ONLY = frozenset({
    "created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
    "self", "file", "schema", "id", "os_hash_algo", "os_hash_value",
})
RESERVED = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"
ARRAY_PROPERTIES = frozenset({"tags", "locations"})
_DEPTH = {"locations": {"add": 2, "remove": 2, "replace": 1}}
_ADJACENT_SLASHES = re.compile(r"/\s*?/")
_BAD_ESCAPE = re.compile(r"~[^01]")


def _operation(raw: dict[str, Any], draft: int) -> tuple[str, Any]:
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise bad_request(
                "Unable to find `op` in JSON Schema change. It must be one of the following: "
                + ", ".join(OPERATIONS) + "."
            )
        if op not in OPERATIONS:
            raise bad_request(
                f"Invalid operation: `{op}`. It must be one of the following: "
                + ", ".join(OPERATIONS) + "."
            )
        if "path" not in raw:
            raise bad_request("Unable to find 'path' in JSON Schema change")
        return op, raw["path"]
    found = None
    for name in OPERATIONS:
        if name in raw:
            if found is not None:
                raise bad_request(
                    'Operation objects must contain only one member named "add", "remove", '
                    'or "replace".'
                )
            found = name
    if found is None:
        raise bad_request(
            'Operation objects must contain exactly one member named "add", "remove", '
            'or "replace".'
        )
    return found, raw[found]


def decode_pointer(pointer: Any) -> list[str]:
    """A JSON pointer as its unescaped, stripped parts (Glance's restricted form)."""
    if not isinstance(pointer, str):
        raise bad_request(f"Pointer `{pointer}` does not start with \"/\".")
    if not pointer.startswith("/"):
        raise bad_request(f'Pointer `{pointer}` does not start with "/".')
    if _ADJACENT_SLASHES.search(pointer[1:]):
        raise bad_request(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise bad_request(f'Pointer `{pointer}` end with "/".')
    if pointer[1:].strip() == "/":
        raise bad_request(f"Pointer `{pointer}` does not contains valid token.")
    if _BAD_ESCAPE.search(pointer) or pointer.endswith("~"):
        raise bad_request(
            f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'
        )
    return [
        part.replace("~1", "/").replace("~0", "~").strip()
        for part in pointer.lstrip("/").split("/")
    ]


def parse_patch(body: Any, draft: int, validator: SchemaValidator) -> list[Change]:
    """The changes of a patch document (raises webob 400/403 errors like Glance)."""
    if not isinstance(body, list):
        raise bad_request("Request body must be a JSON array of operation objects.")
    changes: list[Change] = []
    for raw in body:
        if not isinstance(raw, dict):
            raise bad_request("Operations must be JSON objects.")
        op, pointer = _operation(raw, draft)
        path = decode_pointer(pointer)
        root = path[0]
        if len(path) != _DEPTH.get(root, {}).get(op, 1):
            raise bad_request(
                "Invalid JSON pointer for this resource: '/" + "/".join(path) + "'"
            )
        value = None
        if op != "remove":
            if "value" not in raw:
                raise bad_request(f'Operation "{op}" requires a member named "value".')
            value = raw["value"]
        if root in READ_ONLY:
            raise forbidden(f"Attribute '{root}' is read-only.")
        if root in RESERVED or root.startswith(RESERVED_PREFIX):
            raise forbidden(f"Attribute '{root}' is reserved.")
        if op != "remove":
            partial = None
            if len(path) == 1:
                partial = {root: value}
            elif root in ARRAY_PROPERTIES:
                partial = {root: [value]}
            if partial is not None:
                message = validator.error(partial)
                if message is not None:
                    raise bad_request(message)
        changes.append(Change(op, tuple(path), value))  # type: ignore[arg-type]
    return changes
