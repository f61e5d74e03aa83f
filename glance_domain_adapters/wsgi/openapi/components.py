"""``components`` of the OpenAPI document: schemas, parameters and reusable responses.

The image, member and task schemas and the ten metadefs documents are the very documents the
service validates with and serves under ``/v2/schemas/`` (passed in by the caller), so the
description cannot disagree with the code. The metadefs documents use draft-4 style local
references (``#/definitions/...``); they are lifted into ``components/schemas`` and the
references rewritten, so they resolve inside the OpenAPI document. The remaining schemas
describe bodies the code builds by hand (error bodies, the versions list, ``/v2/info/*``...).
"""

from __future__ import annotations

import copy
from typing import Any

from glance_domain.model.task import TASK_STATUSES
from glance_domain_adapters.wsgi.listing import AVAILABLE_SORT_KEYS
from glance_domain_adapters.wsgi.metadefs.controllers import TAGS_BODY_SCHEMA
from glance_domain_adapters.wsgi.patch import MEDIA_TYPES, OPERATIONS
from glance_domain_adapters.wsgi.schemas import UUID_PATTERN
from glance_domain_adapters.wsgi.tasks import SORT_KEYS as TASK_SORT_KEYS
from glance_domain_adapters.wsgi.tasks import task_create_schema

SCHEMAS_REF = "#/components/schemas/"
_STR: dict[str, Any] = {"type": "string"}


def ref(name: str) -> dict[str, str]:
    """A reference to ``components/schemas/<name>``."""
    return {"$ref": SCHEMAS_REF + name}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (),
            additional: Any = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if additional is not True:
        schema["additionalProperties"] = additional
    return schema


def _lift(name: str, document: dict[str, Any], out: dict[str, Any]) -> None:
    """Store ``document`` as ``out[name]``, its ``definitions`` as ``out[name_<def>]``, with
    every ``#/definitions/X`` reference rewritten to the lifted component."""
    document = copy.deepcopy(document)
    definitions = document.pop("definitions", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str) and target.startswith("#/definitions/"):
                node = {**node, "$ref": SCHEMAS_REF + f"{name}_{target.rsplit('/', 1)[1]}"}
            return {k: rewrite(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out[name] = rewrite(document)
    for key, value in definitions.items():
        out[f"{name}_{key}"] = rewrite(value)


#: ``/v2/schemas/<name>`` document -> component name.
DOCUMENT_COMPONENTS = {
    "image": "Image", "images": "Images", "member": "Member", "members": "Members",
    "task": "Task", "tasks": "Tasks",
    "metadefs/namespace": "MetadefNamespace", "metadefs/namespaces": "MetadefNamespaces",
    "metadefs/resource_type": "MetadefResourceTypeAssociation",
    "metadefs/resource_types": "MetadefResourceTypeAssociations",
    "metadefs/property": "MetadefProperty", "metadefs/properties": "MetadefProperties",
    "metadefs/object": "MetadefObject", "metadefs/objects": "MetadefObjects",
    "metadefs/tag": "MetadefTag", "metadefs/tags": "MetadefTags",
}


def _patch_schema() -> dict[str, Any]:
    """The body of ``PATCH /v2/images/{id}`` in both media types (see ``wsgi/patch.py``)."""
    v21 = _object({"op": {"type": "string", "enum": list(OPERATIONS)},
                   "path": _STR, "value": {}}, ("op", "path"))
    v20 = {"type": "object", "minProperties": 1,
           "properties": {op: _STR for op in OPERATIONS} | {"value": {}}}
    return {"v2.1": {"type": "array", "items": v21}, "v2.0": {"type": "array", "items": v20}}


def schemas(documents: dict[str, Any]) -> dict[str, Any]:
    """Every schema component (``documents``: the ``/v2/schemas/*`` documents being served)."""
    out: dict[str, Any] = {}
    for doc_name, component in DOCUMENT_COMPONENTS.items():
        _lift(component, documents[doc_name], out)
    # the collections hold the item documents: refer to them instead of repeating them
    out["Images"]["properties"]["images"]["items"] = ref("Image")
    out["Members"]["properties"]["members"]["items"] = ref("Member")
    location = copy.deepcopy(documents["image"]["properties"]["locations"]["items"])
    patch = _patch_schema()
    out.update({
        "Error": _object({"message": _STR, "code": _STR, "title": _STR},
                         ("message", "code", "title")),
        "Versions": _object({"versions": {"type": "array", "items": _object({
            "id": _STR, "status": {"type": "string", "enum": ["CURRENT", "SUPPORTED"]},
            "links": {"type": "array", "items": _object(
                {"rel": _STR, "href": _STR}, ("rel", "href"))},
        }, ("id", "status", "links"))}}, ("versions",)),
        "ImageCreate": ref("Image"),
        "ImagePatchV21": patch["v2.1"],
        "ImagePatchV20": patch["v2.0"],
        "Location": location,
        "LocationCreate": {**copy.deepcopy(location), "required": ["url"]},
        "Locations": {"type": "array", "items": ref("Location")},
        "ImportRequest": _object({
            "method": _object({"name": _STR, "uri": _STR}, ("name",)),
            "stores": {"type": "array", "items": _STR},
            "all_stores": {"type": "boolean"},
            "all_stores_must_succeed": {"type": "boolean"},
        }, ("method",)),
        "MemberCreate": _object({"member": {"type": "string", "minLength": 1}}, ("member",)),
        "MemberUpdate": _object(
            {"status": {"type": "string", "enum": ["pending", "accepted", "rejected"]}},
            ("status",)),
        "ImageTasks": _object({"tasks": {"type": "array", "items": _object({
            "id": _STR, "type": _STR, "status": {"type": "string", "enum": list(TASK_STATUSES)},
            "owner": {"type": ["null", "string"]},
            "expires_at": {"type": ["null", "string"]}, "created_at": {"type": ["null", "string"]},
            "updated_at": {"type": ["null", "string"]}, "deleted_at": {"type": "null"},
            "deleted": {"type": "boolean"}, "image_id": {"type": ["null", "string"]},
            "request_id": {"type": ["null", "string"]}, "user_id": {"type": ["null", "string"]},
            "input": {"type": "object"}, "result": {"type": ["null", "object"]},
            "message": {"type": ["null", "string"]},
        }, ("id", "type", "status"))}}, ("tasks",)),
        "TaskCreate": {**task_create_schema(), "required": ["type", "input"]},
        "InfoImport": _object({"import-methods": _object({
            "description": _STR, "type": _STR,
            "value": {"type": "array", "items": _STR}}, ("value",))}, ("import-methods",)),
        "InfoStores": _object({"stores": {"type": "array", "items": _object({
            "id": _STR, "description": _STR, "default": {"type": "string", "enum": ["true"]},
            "read-only": {"type": "string", "enum": ["true"]},
            "type": _STR, "properties": {"type": "object"}, "weight": {"type": "integer"},
        }, ("id",))}}, ("stores",)),
        "InfoUsage": _object({"usage": {"type": "object"}}, ("usage",)),
        "CacheState": _object({
            "cached_images": {"type": "array", "items": _object({
                "image_id": _STR, "hits": {"type": "integer"},
                "last_accessed": {"type": "number"}, "last_modified": {"type": "number"},
                "size": {"type": "integer"}}, ("image_id",))},
            "queued_images": {"type": "array", "items": _STR},
        }, ("cached_images", "queued_images")),
        "CachedNodes": {"type": "array", "items": _STR},
        "MetadefResourceTypes": _object({"resource_types": {"type": "array", "items": _object(
            {"name": _STR, "created_at": _STR, "updated_at": _STR}, ("name",))}},
            ("resource_types",)),
        "MetadefTagsCreate": {**copy.deepcopy(TAGS_BODY_SCHEMA), "type": "object"},
        "SchemaDocument": _object({"name": _STR, "properties": {"type": "object"}},
                                  ("name", "properties")),
        "OpenApiDocument": _object({"openapi": _STR, "info": {"type": "object"},
                                    "paths": {"type": "object"}},
                                   ("openapi", "info", "paths")),
    })
    return out


def _param(name: str, where: str, schema: dict[str, Any], description: str,
           required: bool = False) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "description": description,
                             "schema": schema}
    if required or where == "path":
        param["required"] = True
    return param


_SEGMENT: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/]+$"}
_UUID: dict[str, Any] = {"type": "string", "pattern": UUID_PATTERN}
_LIMIT: dict[str, Any] = {"type": "integer", "minimum": 0}
_DIR: dict[str, Any] = {"type": "string", "enum": ["asc", "desc"]}
_BOOL_TEXT: dict[str, Any] = {"type": "string", "enum": ["true", "false"]}


def parameters() -> dict[str, Any]:
    """Path, query and header parameters, by component name."""
    path: dict[str, tuple[dict[str, Any], str]] = {
        "image_id": (_UUID, "Image id (a UUID; any other value is simply not found)"),
        "member_id": (_SEGMENT, "Project the image is shared with"),
        "tag_value": (_SEGMENT, "An image tag"),
        "store_id": (_SEGMENT, "A store (backend) id"),
        "task_id": (_UUID, "Task id"),
        "namespace": (_SEGMENT, "Metadefs namespace name"),
        "name": (_SEGMENT, "Name of the property, object or tag"),
        "resource_type": (_SEGMENT, "Resource type name"),
    }
    out = {f"path.{k}": _param(k, "path", dict(s), d) for k, (s, d) in path.items()}
    query: dict[str, tuple[dict[str, Any], str]] = {
        "limit": (_LIMIT, "Page size (capped by the service's maximum)"),
        "marker": (_STR, "Last item of the previous page"),
        "sort_dir": (_DIR, "Sort direction"),
        "images.sort_key": ({"type": "string", "enum": list(AVAILABLE_SORT_KEYS)},
                            "Sort key (repeatable)"),
        "images.sort": (_STR, "key:dir,... (the newer sorting syntax)"),
        "images.name": (_STR, "Name, or in:a,b,... list"),
        "images.visibility": ({"type": "string", "enum": [
            "community", "public", "private", "shared", "all"]}, "Visibility"),
        "images.member_status": ({"type": "string", "enum": [
            "pending", "accepted", "rejected", "all"]}, "Membership status of shared images"),
        "images.owner": (_STR, "Owning project"),
        "images.status": (_STR, "Status, or in:a,b,... list"),
        "images.container_format": (_STR, "Container format, or in:a,b,... list"),
        "images.disk_format": (_STR, "Disk format, or in:a,b,... list"),
        "images.size_min": (_LIMIT, "Smallest size, in bytes"),
        "images.size_max": (_LIMIT, "Largest size, in bytes"),
        "images.tag": (_STR, "A tag the image must have (repeatable)"),
        "images.os_hidden": (_BOOL_TEXT, "List hidden images instead of visible ones"),
        "images.protected": (_BOOL_TEXT, "Protected or not"),
        "images.created_at": (_STR, "op:ISO-8601 time (gt, gte, eq, neq, lt, lte)"),
        "images.updated_at": (_STR, "op:ISO-8601 time (gt, gte, eq, neq, lt, lte)"),
        "tasks.sort_key": ({"type": "string", "enum": list(TASK_SORT_KEYS)}, "Sort key"),
        "tasks.status": ({"type": "string", "enum": list(TASK_STATUSES)}, "Task status"),
        "tasks.type": ({"type": "string", "enum": ["import"]}, "Task type"),
        "metadefs.sort_key": (_STR, "Sort key (created_at, updated_at, name...)"),
        "metadefs.visibility": ({"type": "string", "enum": ["public", "private"]},
                                "Namespace visibility"),
        "metadefs.resource_types": (_STR, "Comma-separated resource type names"),
        "metadefs.resource_type": (_STR, "Show names with this resource type's prefix"),
    }
    for key, (schema, description) in query.items():
        out[f"query.{key}"] = _param(key.rsplit(".", 1)[-1], "query", dict(schema), description)
    header: dict[str, tuple[dict[str, Any], str]] = {
        "Range": ({"type": "string", "pattern": r"^bytes=([0-9]+-[0-9]*|-[0-9]+)$"},
                  "One byte range (several ranges are refused)"),
        "Content-Range": ({"type": "string", "pattern": r"^bytes [0-9]+-[0-9]+/([0-9]+|\*)$"},
                          "Legacy request range (as Glance accepts it)"),
        "X-Image-Meta-Store": (_STR, "Store to write to (multi-store deployments)"),
        "x-image-cache-clear-target": ({"type": "string", "enum": ["", "cache", "queue"]},
                                       "What to clear: cached copies, the queue, or both"),
        "X-Openstack-Append": (_BOOL_TEXT, "Add to the namespace's tags instead of replacing"),
    }
    for key, (schema, description) in header.items():
        out[f"header.{key}"] = _param(key, "header", dict(schema), description)
    return out


#: Error statuses every ``/v2`` operation may answer, and why.
COMMON_ERRORS = {
    "400": "Malformed request (bad parameter, undecodable URL, unexpected body...)",
    "401": "The identity could not be confirmed",
    "403": "Not allowed by policy",
    "404": "Not found, or not visible to the caller",
    "503": "A backing service (database, store) is unavailable",
}
ERROR_TEXTS = {
    **COMMON_ERRORS,
    "405": "Method not allowed on this path (see the Allow header)",
    "409": "Conflicts with the current state of the resource",
    "413": "Body or data too large, or a quota is exceeded",
    "415": "Unsupported media type, or data that does not match its disk_format",
    "416": "Requested range not satisfiable",
}


def error_response(status: str) -> dict[str, Any]:
    """An error: webob renders it as JSON, HTML or plain text according to ``Accept``."""
    return {"description": ERROR_TEXTS[status], "content": {
        "application/json": {"schema": ref("Error")},
        "text/html": {"schema": _STR},
        "text/plain": {"schema": _STR},
    }}


def responses() -> dict[str, Any]:
    return {f"Error{status}": error_response(status) for status in ERROR_TEXTS}


def patch_media_types() -> dict[str, str]:
    """PATCH media type -> its body schema component."""
    names = {4: "ImagePatchV20", 10: "ImagePatchV21"}
    return {media: names[draft] for media, draft in MEDIA_TYPES.items()}
