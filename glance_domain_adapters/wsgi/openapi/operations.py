"""What each handler of the route table takes and answers, keyed by (resource, action).

The route table (``wsgi/routes.py``) says which paths and methods exist and which handler
serves each; this table says, per handler, its parameters, body and responses. The document
builder walks the route table and looks every handler up here, so a route added without an
entry fails the build (and its test), and an entry no route uses is reported too.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from glance_domain_adapters.wsgi.openapi.components import patch_media_types


@attrs.frozen
class Reply:
    """One success response: its description, body schema component (``binary`` for raw
    data, None for no body) and whether it carries a ``Location`` header."""

    description: str
    body: str | None = None
    location: bool = False


@attrs.frozen
class Op:
    """One handler: tag, summary, query/header parameter components, request body (media type
    -> schema component), success replies and the error statuses beyond the common ones."""

    tag: str
    summary: str
    replies: Mapping[str, Reply]
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    body: Mapping[str, str] | None = None
    errors: tuple[str, ...] = ()


JSON = "application/json"
OCTET = "application/octet-stream"
_NONE = Reply("Done (no body)")
_WRITE = ("409", "413")  # JSON bodies have a size limit; writes can conflict
_PAGING = ("query.limit", "query.marker", "query.sort_dir")


def _ok(body: str, description: str = "OK") -> Mapping[str, Reply]:
    return {"200": Reply(description, body)}


def _created(body: str) -> Mapping[str, Reply]:
    return {"201": Reply("Created", body)}


_IMAGE_QUERY = (
    "query.limit", "query.marker", "query.images.sort_key", "query.sort_dir",
    "query.images.sort", "query.images.name", "query.images.visibility",
    "query.images.member_status", "query.images.owner", "query.images.status",
    "query.images.container_format", "query.images.disk_format", "query.images.size_min",
    "query.images.size_max", "query.images.tag", "query.images.os_hidden",
    "query.images.protected", "query.images.created_at", "query.images.updated_at",
)

OPERATIONS: Mapping[tuple[str, str], Op] = {
    # images
    ("images", "index"): Op("images", "List images (filters, sorting, paging)",
                            _ok("Images"), query=_IMAGE_QUERY),
    ("images", "create"): Op("images", "Create an image record",
                             {"201": Reply("Created", "Image", location=True)},
                             body={JSON: "ImageCreate"}, errors=_WRITE),
    ("images", "show"): Op("images", "Show an image", _ok("Image")),
    ("images", "update"): Op("images", "Change an image (JSON patch)", _ok("Image"),
                             body=patch_media_types(), errors=(*_WRITE, "415")),
    ("images", "delete"): Op("images", "Delete an image and its data",
                             {"204": _NONE}, errors=("409",)),
    ("image_actions", "deactivate"): Op("images", "Deactivate an image", {"204": _NONE},
                                        errors=("409",)),
    ("image_actions", "reactivate"): Op("images", "Reactivate an image", {"204": _NONE},
                                        errors=("409",)),
    # data
    ("image_data", "download"): Op(
        "data", "Download image data (one byte range at most)",
        {"200": Reply("The data", "binary"), "204": Reply("The image has no data"),
         "206": Reply("The requested range", "binary")},
        headers=("header.Range", "header.Content-Range"), errors=("416",)),
    ("image_data", "upload"): Op(
        "data", "Upload image data (streamed)", {"204": _NONE},
        headers=("header.X-Image-Meta-Store",), body={OCTET: "binary"},
        errors=("409", "413", "415")),
    ("image_data", "stage"): Op("import", "Stage data for the glance-direct import method",
                                {"204": _NONE}, body={OCTET: "binary"},
                                errors=("409", "413", "415")),
    ("images", "import_image"): Op("import", "Import data into an image (interoperable import)",
                                   {"202": Reply("Accepted; the import runs in the background")},
                                   headers=("header.X-Image-Meta-Store",),
                                   body={JSON: "ImportRequest"}, errors=_WRITE),
    ("images", "get_task_info"): Op("import", "The image's import tasks", _ok("ImageTasks")),
    # locations and stores
    ("images", "get_locations"): Op("locations", "List the image's locations",
                                    _ok("Locations")),
    ("images", "add_location"): Op("locations", "Add a location (service role)",
                                   {"202": Reply("Accepted; hashing runs in the background")},
                                   body={JSON: "LocationCreate"}, errors=_WRITE),
    ("images", "delete_from_store"): Op("locations", "Delete the image's data from one store",
                                        {"204": _NONE}, errors=("409",)),
    # tags and members
    ("image_tags", "update"): Op("tags", "Add a tag", {"204": _NONE}, errors=("409", "413")),
    ("image_tags", "delete"): Op("tags", "Remove a tag", {"204": _NONE}, errors=("409",)),
    ("image_members", "index"): Op("members", "List the image's members", _ok("Members")),
    ("image_members", "create"): Op("members", "Share the image with a project",
                                    _ok("Member"), body={JSON: "MemberCreate"}, errors=_WRITE),
    ("image_members", "show"): Op("members", "Show one membership", _ok("Member")),
    ("image_members", "update"): Op("members", "Accept or reject a shared image",
                                    _ok("Member"), body={JSON: "MemberUpdate"}, errors=_WRITE),
    ("image_members", "delete"): Op("members", "Stop sharing with a project", {"204": _NONE},
                                    errors=("409",)),
    # info
    ("info", "get_image_import"): Op("info", "Enabled import methods", _ok("InfoImport")),
    ("info", "get_stores"): Op("info", "Stores (multi-store deployments)", _ok("InfoStores")),
    ("info", "get_stores_detail"): Op("info", "Stores with their properties (admin)",
                                      _ok("InfoStores")),
    ("info", "get_usage"): Op("info", "Quota usage", _ok("InfoUsage")),
    # tasks
    ("tasks", "index"): Op("tasks", "List tasks (admin)", _ok("Tasks"),
                           query=(*_PAGING, "query.tasks.sort_key", "query.tasks.status",
                                  "query.tasks.type")),
    ("tasks", "create"): Op("tasks", "Create a legacy import task (admin)",
                            {"201": Reply("Created", "Task", location=True)},
                            body={JSON: "TaskCreate"}, errors=_WRITE),
    ("tasks", "get"): Op("tasks", "Show a task (admin)", _ok("Task")),
    ("tasks", "delete"): Op("tasks", "Tasks cannot be deleted: always 405", {},
                            errors=("405",)),
    # cache
    ("cache_manage", "get_cache_state"): Op("cache", "Cached and queued images",
                                            _ok("CacheState")),
    ("cache_manage", "clear_cache"): Op("cache", "Clear the cache and/or its queue",
                                        {"204": _NONE},
                                        headers=("header.x-image-cache-clear-target",)),
    ("cache_manage", "delete_cache_entry"): Op("cache", "Remove an image's cached copy",
                                               {"204": _NONE}),
    ("cache_manage", "queue_image_from_api"): Op("cache", "Queue an image for caching",
                                                 {"202": Reply("Queued")}),
    ("cache_manage", "get_cached_nodes"): Op("cache", "Hosts holding a cached copy",
                                             _ok("CachedNodes"), errors=("409",)),
    ("cache_manage", "clean_cache"): Op("cache", "Clean the cache", {"200": _NONE}),
    ("cache_manage", "prune_cache"): Op("cache", "Prune the cache", {"200": _NONE}),
    # the served documents
    ("openapi", "show"): Op("schemas", "This OpenAPI document", _ok("OpenApiDocument")),
    # metadefs
    ("metadefs", "index_resource_types"): Op("metadefs", "Resource types ever associated",
                                             _ok("MetadefResourceTypes")),
    ("metadefs", "show_associations"): Op("metadefs", "The namespace's resource types",
                                          _ok("MetadefResourceTypeAssociations")),
    ("metadefs", "create_association"): Op(
        "metadefs", "Associate a resource type", _created("MetadefResourceTypeAssociation"),
        body={JSON: "MetadefResourceTypeAssociation"}, errors=_WRITE),
    ("metadefs", "delete_association"): Op("metadefs", "Remove a resource type association",
                                           {"204": _NONE}, errors=("409",)),
    ("metadefs", "index_namespaces"): Op(
        "metadefs", "List namespaces", _ok("MetadefNamespaces"),
        query=(*_PAGING, "query.metadefs.sort_key", "query.metadefs.visibility",
               "query.metadefs.resource_types")),
    ("metadefs", "create_namespace"): Op("metadefs", "Create a namespace (with contents)",
                                         {"201": Reply("Created", "MetadefNamespace",
                                                       location=True)},
                                         body={JSON: "MetadefNamespace"}, errors=_WRITE),
    ("metadefs", "show_namespace"): Op("metadefs", "Show a namespace and its contents",
                                       _ok("MetadefNamespace"),
                                       query=("query.metadefs.resource_type",)),
    ("metadefs", "update_namespace"): Op("metadefs", "Replace a namespace's attributes",
                                         _ok("MetadefNamespace"),
                                         body={JSON: "MetadefNamespace"}, errors=_WRITE),
    ("metadefs", "delete_namespace"): Op("metadefs", "Delete a namespace and its contents",
                                         {"204": _NONE}, errors=("409",)),
    ("metadefs", "index_properties"): Op("metadefs", "List properties",
                                         _ok("MetadefProperties")),
    ("metadefs", "create_property"): Op("metadefs", "Create a property",
                                        _created("MetadefProperty"),
                                        body={JSON: "MetadefProperty"}, errors=_WRITE),
    ("metadefs", "delete_properties"): Op("metadefs", "Delete every property",
                                          {"204": _NONE}, errors=("409",)),
    ("metadefs", "show_property"): Op("metadefs", "Show a property", _ok("MetadefProperty"),
                                      query=("query.metadefs.resource_type",)),
    ("metadefs", "update_property"): Op("metadefs", "Replace a property",
                                        _ok("MetadefProperty"),
                                        body={JSON: "MetadefProperty"}, errors=_WRITE),
    ("metadefs", "delete_property"): Op("metadefs", "Delete a property", {"204": _NONE},
                                        errors=("409",)),
    ("metadefs", "index_objects"): Op("metadefs", "List objects", _ok("MetadefObjects"),
                                      query=(*_PAGING, "query.metadefs.sort_key")),
    ("metadefs", "create_object"): Op("metadefs", "Create an object",
                                      _created("MetadefObject"),
                                      body={JSON: "MetadefObject"}, errors=_WRITE),
    ("metadefs", "delete_objects"): Op("metadefs", "Delete every object", {"204": _NONE},
                                       errors=("409",)),
    ("metadefs", "show_object"): Op("metadefs", "Show an object", _ok("MetadefObject")),
    ("metadefs", "update_object"): Op("metadefs", "Replace an object", _ok("MetadefObject"),
                                      body={JSON: "MetadefObject"}, errors=_WRITE),
    ("metadefs", "delete_object"): Op("metadefs", "Delete an object", {"204": _NONE},
                                      errors=("409",)),
    ("metadefs", "index_tags"): Op("metadefs", "List tags", _ok("MetadefTags"),
                                   query=(*_PAGING, "query.metadefs.sort_key")),
    ("metadefs", "create_tags"): Op("metadefs", "Replace (or append to) the tags",
                                    _created("MetadefTags"),
                                    headers=("header.X-Openstack-Append",),
                                    body={JSON: "MetadefTagsCreate"}, errors=_WRITE),
    ("metadefs", "delete_tags"): Op("metadefs", "Delete every tag", {"204": _NONE},
                                    errors=("409",)),
    ("metadefs", "show_tag"): Op("metadefs", "Show a tag", _ok("MetadefTag")),
    ("metadefs", "create_tag"): Op("metadefs", "Create a tag", _created("MetadefTag"),
                                   errors=_WRITE),
    ("metadefs", "update_tag"): Op("metadefs", "Rename a tag", _ok("MetadefTag"),
                                   body={JSON: "MetadefTag"}, errors=_WRITE),
    ("metadefs", "delete_tag"): Op("metadefs", "Delete a tag", {"204": _NONE},
                                   errors=("409",)),
}


def schema_operation(name: str) -> Op:
    """``GET /v2/schemas/<name>``: the document (one entry serves the sixteen routes)."""
    return Op("schemas", f"The {name} JSON schema", _ok("SchemaDocument"))
