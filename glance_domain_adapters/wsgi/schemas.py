"""JSON schemas served under ``/v2/schemas/...`` and used to validate request values.

The structure (names, types, enums, patterns, required fields, links) is Glance's contract:
python-glanceclient builds its models from ``/v2/schemas/image`` and validates with it. The
description strings are ours.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import jsonschema

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)
IMAGE_STATUSES = [
    "queued", "saving", "active", "killed", "deleted", "uploading", "importing",
    "pending_delete", "deactivated",
]


def image_properties(
    disk_formats: Sequence[str], container_formats: Sequence[str]
) -> dict[str, Any]:
    """The core properties of an image, in Glance's order."""
    return {
        "id": {
            "type": "string",
            "description": "Unique identifier of the image (a UUID)",
            "pattern": UUID_PATTERN,
        },
        "name": {
            "type": ["null", "string"],
            "description": "Human-readable name of the image",
            "maxLength": 255,
        },
        "status": {
            "type": "string",
            "readOnly": True,
            "description": "Lifecycle state of the image",
            "enum": list(IMAGE_STATUSES),
        },
        "visibility": {
            "type": "string",
            "description": "Who may see the image",
            "enum": ["community", "public", "private", "shared"],
        },
        "protected": {
            "type": "boolean",
            "description": "A protected image cannot be deleted",
        },
        "os_hidden": {
            "type": "boolean",
            "description": "A hidden image is left out of default image listings",
        },
        "checksum": {
            "type": ["null", "string"],
            "readOnly": True,
            "description": "MD5 digest of the image data",
            "maxLength": 32,
        },
        "os_hash_algo": {
            "type": ["null", "string"],
            "readOnly": True,
            "description": "Name of the algorithm that produced os_hash_value",
            "maxLength": 64,
        },
        "os_hash_value": {
            "type": ["null", "string"],
            "readOnly": True,
            "description": "Hex digest of the image data computed with os_hash_algo",
            "maxLength": 128,
        },
        "owner": {
            "type": ["null", "string"],
            "description": "Project that owns the image",
            "maxLength": 255,
        },
        "size": {
            "type": ["null", "integer"],
            "readOnly": True,
            "description": "Size of the image data, in bytes",
        },
        "virtual_size": {
            "type": ["null", "integer"],
            "readOnly": True,
            "description": "Size of the virtual disk the image holds, in bytes",
        },
        "container_format": {
            "type": ["null", "string"],
            "description": "Container format of the image data",
            "enum": [None, *container_formats],
        },
        "disk_format": {
            "type": ["null", "string"],
            "description": "Disk format of the image data",
            "enum": [None, *disk_formats],
        },
        "created_at": {
            "type": "string",
            "readOnly": True,
            "description": "When the image was created",
        },
        "updated_at": {
            "type": "string",
            "readOnly": True,
            "description": "When the image was last changed",
        },
        "tags": {
            "type": "array",
            "description": "Free-form labels attached to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": {
            "type": "string",
            "readOnly": True,
            "description": "Location of the image data in its backing store",
        },
        "min_ram": {
            "type": "integer",
            "description": "Memory needed to boot the image, in MB",
        },
        "min_disk": {
            "type": "integer",
            "description": "Disk space needed to boot the image, in GB",
        },
        "self": {"type": "string", "readOnly": True, "description": "URL of this image"},
        "file": {"type": "string", "readOnly": True, "description": "URL of the image data"},
        "stores": {
            "type": "string",
            "readOnly": True,
            "description": "Comma-separated ids of the stores holding the image data "
            "(multi-store deployments only)",
        },
        "schema": {
            "type": "string",
            "readOnly": True,
            "description": "URL of the schema describing this image",
        },
        "locations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string", "maxLength": 255},
                    "metadata": {"type": "object"},
                    "validation_data": {
                        "description": "Checksum and hash of the data at this location; "
                        "they set the image's own values while it is queued and must match "
                        "them afterwards.",
                        "type": "object",
                        "writeOnly": True,
                        "additionalProperties": False,
                        "properties": {
                            "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                            "os_hash_algo": {"type": "string", "maxLength": 64},
                            "os_hash_value": {"type": "string", "maxLength": 128},
                        },
                        "required": ["os_hash_algo", "os_hash_value"],
                    },
                },
                "required": ["url", "metadata"],
            },
            "description": "Where the image data is kept",
        },
    }


IMAGE_LINKS = [
    {"rel": "self", "href": "{self}"},
    {"rel": "enclosure", "href": "{file}"},
    {"rel": "describedby", "href": "{schema}"},
]
COLLECTION_LINKS = [
    {"rel": "first", "href": "{first}"},
    {"rel": "next", "href": "{next}"},
    {"rel": "describedby", "href": "{schema}"},
]

MEMBER_PROPERTIES: dict[str, Any] = {
    "member_id": {
        "type": "string",
        "description": "Project the image is shared with",
    },
    "image_id": {
        "type": "string",
        "description": "Unique identifier of the image (a UUID)",
        "pattern": UUID_PATTERN,
    },
    "created_at": {"type": "string", "description": "When the membership was created"},
    "updated_at": {"type": "string", "description": "When the membership was last changed"},
    "status": {
        "type": "string",
        "description": "Whether the member accepted the shared image",
        "enum": ["pending", "accepted", "rejected"],
    },
    "schema": {"readOnly": True, "type": "string"},
}

TASK_PROPERTIES: dict[str, Any] = {
    "id": {"description": "Unique identifier of the task", "pattern": UUID_PATTERN,
           "type": "string"},
    # key order as Glance's: validation errors quote the property's schema
    "type": {"description": "Kind of task",
             "enum": ["import", "api_image_import", "location_import"], "type": "string"},
    "status": {"description": "Lifecycle state of the task",
               "enum": ["pending", "processing", "success", "failure"], "type": "string"},
    "input": {"description": "Parameters of the task", "type": ["null", "object"]},
    "result": {"description": "Outcome of the task", "type": ["null", "object"]},
    "owner": {"description": "Project that owns the task", "type": "string"},
    "message": {"description": "Explanation, mostly set when the task failed",
                "type": "string"},
    "image_id": {"description": "Image the task works on", "type": "string"},
    "request_id": {"description": "Request that created the task", "type": "string"},
    "user_id": {"description": "User who created the task", "type": "string"},
    "expires_at": {"description": "When the task record may be purged",
                   "type": ["null", "string"]},
    "created_at": {"description": "When the task was created", "type": "string"},
    "updated_at": {"description": "When the task was last changed", "type": "string"},
    "self": {"readOnly": True, "type": "string"},
    "schema": {"readOnly": True, "type": "string"},
}


def image_schema(disk_formats: Sequence[str], container_formats: Sequence[str]) -> dict[str, Any]:
    """``GET /v2/schemas/image``: a permissive schema (extra properties are strings)."""
    return {
        "name": "image",
        "properties": image_properties(disk_formats, container_formats),
        "additionalProperties": {"type": "string"},
        "links": copy.deepcopy(IMAGE_LINKS),
    }


def images_schema(image: dict[str, Any]) -> dict[str, Any]:
    """``GET /v2/schemas/images``."""
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": copy.deepcopy(image)},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": copy.deepcopy(COLLECTION_LINKS),
    }


def _minimal_collection(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }


def member_schema() -> dict[str, Any]:
    return {"name": "member", "properties": copy.deepcopy(MEMBER_PROPERTIES)}


def members_schema() -> dict[str, Any]:
    return _minimal_collection("members", member_schema())


def task_schema() -> dict[str, Any]:
    return {"name": "task", "properties": copy.deepcopy(TASK_PROPERTIES)}


def tasks_schema() -> dict[str, Any]:
    partial = {k: v for k, v in copy.deepcopy(TASK_PROPERTIES).items()
               if k not in ("input", "result", "message")}
    return _minimal_collection("tasks", {"name": "task", "properties": partial})


class SchemaValidator:
    """Validates values against a schema; the message is Glance's InvalidObject message."""

    def __init__(self, name: str, schema: dict[str, Any]) -> None:
        self.name = name
        self._validator = jsonschema.validators.validator_for(schema)(schema)

    def error(self, instance: Any) -> str | None:
        """None when ``instance`` is valid, else Glance's message for the best violation."""
        try:
            best = jsonschema.exceptions.best_match(self._validator.iter_errors(instance))
        except Exception as exc:  # a pathological value the validator cannot handle
            return f"Provided object does not match schema '{self.name}': {exc}"
        if best is None:
            return None
        return f"Provided object does not match schema '{self.name}': {best}"
