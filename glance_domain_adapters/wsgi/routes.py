"""The v2 route table and a small segment-matching router.

Every route Glance 33 mounts is listed with its methods -> (resource, action, body_reject) and
the ``Allow`` list of its catch-all reject route (None where Glance has no reject route, so other
methods are 404). Routes are bucketed by (number of segments, first segment after ``v2``), so a
lookup compares a handful of literal segments instead of running dozens of regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

#: method -> (resource name, action, body_reject)
Methods = Mapping[str, tuple[str, str, bool]]

_IMG = "/v2/images/{image_id}"
_NS = "/v2/metadefs/namespaces/{namespace}"

ROUTE_TABLE: tuple[tuple[str, Methods, str | None], ...] = (
    ("/v2/images", {
        "GET": ("images", "index", False), "POST": ("images", "create", False),
    }, "GET, POST"),
    (_IMG, {
        "PATCH": ("images", "update", False), "GET": ("images", "show", True),
        "DELETE": ("images", "delete", True),
    }, "GET, PATCH, DELETE"),
    (_IMG + "/file", {
        "GET": ("image_data", "download", True), "PUT": ("image_data", "upload", False),
    }, "GET, PUT"),
    (_IMG + "/tags/{tag_value}", {
        "PUT": ("image_tags", "update", True), "DELETE": ("image_tags", "delete", True),
    }, "PUT, DELETE"),
    (_IMG + "/members", {
        "GET": ("image_members", "index", True), "POST": ("image_members", "create", False),
    }, "GET, POST"),
    (_IMG + "/members/{member_id}", {
        "GET": ("image_members", "show", True), "PUT": ("image_members", "update", False),
        "DELETE": ("image_members", "delete", True),
    }, "GET, PUT, DELETE"),
    (_IMG + "/actions/deactivate", {
        "POST": ("image_actions", "deactivate", True)}, "POST"),
    (_IMG + "/actions/reactivate", {
        "POST": ("image_actions", "reactivate", True)}, "POST"),
    (_IMG + "/tasks", {"GET": ("images", "get_task_info", True)}, None),
    (_IMG + "/import", {"POST": ("images", "import_image", False)}, "POST"),
    (_IMG + "/stage", {"PUT": ("image_data", "stage", False)}, "PUT"),
    (_IMG + "/locations", {
        "POST": ("images", "add_location", False), "GET": ("images", "get_locations", False),
    }, "POST"),
    ("/v2/stores/{store_id}/{image_id}", {
        "DELETE": ("images", "delete_from_store", True)}, "DELETE"),
    ("/v2/openapi.json", {"GET": ("openapi", "show", True)}, "GET"),  # ours, not Glance's
    ("/v2/info/import", {"GET": ("info", "get_image_import", True)}, "GET"),
    ("/v2/info/stores", {"GET": ("info", "get_stores", True)}, "GET"),
    ("/v2/info/usage", {"GET": ("info", "get_usage", False)}, None),
    ("/v2/info/stores/detail", {"GET": ("info", "get_stores_detail", True)}, "GET"),
    *(
        (f"/v2/schemas/{name}", {"GET": ("schemas", name, name not in ("task", "tasks"))},
         "GET")
        for name in (
            "image", "images", "member", "members", "task", "tasks",
            "metadefs/namespace", "metadefs/namespaces", "metadefs/resource_type",
            "metadefs/resource_types", "metadefs/property", "metadefs/properties",
            "metadefs/object", "metadefs/objects", "metadefs/tag", "metadefs/tags",
        )
    ),
    ("/v2/tasks", {
        "POST": ("tasks", "create", False), "GET": ("tasks", "index", False),
    }, "GET, POST"),
    ("/v2/tasks/{task_id}", {
        "GET": ("tasks", "get", False), "DELETE": ("tasks", "delete", False),
    }, "GET, DELETE"),
    ("/v2/cache", {
        "GET": ("cache_manage", "get_cache_state", True),
        "DELETE": ("cache_manage", "clear_cache", False),
    }, "GET, DELETE"),
    ("/v2/cache/{image_id}", {
        "DELETE": ("cache_manage", "delete_cache_entry", False),
        "PUT": ("cache_manage", "queue_image_from_api", False),
    }, "DELETE, PUT"),
    ("/v2/cache/nodes/{image_id}", {
        "GET": ("cache_manage", "get_cached_nodes", True)}, "GET"),
    ("/v2/cache/clean", {"POST": ("cache_manage", "clean_cache", False)}, "POST"),
    ("/v2/cache/prune", {"POST": ("cache_manage", "prune_cache", False)}, "POST"),
    ("/v2/metadefs/resource_types", {
        "GET": ("metadefs", "index_resource_types", False)}, "GET"),
    (_NS + "/resource_types", {
        "GET": ("metadefs", "show_associations", False),
        "POST": ("metadefs", "create_association", False),
    }, "GET, POST"),
    (_NS + "/resource_types/{resource_type}", {
        "DELETE": ("metadefs", "delete_association", False)}, "DELETE"),
    ("/v2/metadefs/namespaces", {
        "GET": ("metadefs", "index_namespaces", False),
        "POST": ("metadefs", "create_namespace", False),
    }, "GET, POST"),
    (_NS, {
        "GET": ("metadefs", "show_namespace", False),
        "PUT": ("metadefs", "update_namespace", False),
        "DELETE": ("metadefs", "delete_namespace", False),
    }, "GET, PUT, DELETE"),
    *(
        (_NS + f"/{kind}", {
            "GET": ("metadefs", f"index_{kind}", False),
            "POST": ("metadefs", f"create_{single}", False),
            "DELETE": ("metadefs", f"delete_{kind}", False),
        }, "GET, POST, DELETE")
        for kind, single in (("properties", "property"), ("objects", "object"),
                             ("tags", "tags"))
    ),
    *(
        (_NS + f"/{kind}/{{name}}", {
            "GET": ("metadefs", f"show_{single}", False),
            "PUT": ("metadefs", f"update_{single}", False),
            "DELETE": ("metadefs", f"delete_{single}", False),
        }, "GET, PUT, DELETE")
        for kind, single in (("properties", "property"), ("objects", "object"))
    ),
    (_NS + "/tags/{name}", {
        "GET": ("metadefs", "show_tag", False), "POST": ("metadefs", "create_tag", False),
        "PUT": ("metadefs", "update_tag", False), "DELETE": ("metadefs", "delete_tag", False),
    }, "GET, POST, PUT, DELETE"),
)

#: A run of slashes followed by a segment: collapsed to one slash before matching.
_INNER_SLASHES = re.compile(r"/{2,}(?=[^/])")
_IMPLEMENTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})


@attrs.frozen
class Route:
    """One path template: its segments, methods and reject ``Allow`` list."""

    template: str
    segments: tuple[str | None, ...]  # a literal, or None for a variable
    names: tuple[str, ...]  # variable names, in order
    methods: Methods
    allow: str | None

    @classmethod
    def parse(cls, template: str, methods: Methods, allow: str | None) -> Route:
        segments: list[str | None] = []
        names: list[str] = []
        for part in template.strip("/").split("/"):
            if part.startswith("{") and part.endswith("}"):
                segments.append(None)
                names.append(part[1:-1])
            else:
                segments.append(part)
        return cls(template, tuple(segments), tuple(names), methods, allow)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        values: dict[str, str] = {}
        names = iter(self.names)
        for want, got in zip(self.segments, parts, strict=True):
            if want is None:
                if not got:
                    return None
                values[next(names)] = got
            elif want != got:
                return None
        return values


@attrs.frozen
class Match:
    """The outcome of routing: a handler, or a status (404/405/501) with an ``Allow`` list."""

    resource: str = ""
    action: str = ""
    body_reject: bool = False
    urlvars: Mapping[str, str] = attrs.field(factory=dict)
    status: int = 200
    allow: str | None = None


NOT_FOUND = Match(status=404)
NOT_IMPLEMENTED = Match(status=501)


class Router:
    """Maps (method, path) to a :class:`Match`."""

    def __init__(self, table: tuple[tuple[str, Methods, str | None], ...] = ROUTE_TABLE) -> None:
        self._buckets: dict[tuple[int, str], list[Route]] = {}
        for template, methods, allow in table:
            route = Route.parse(template, methods, allow)
            key = (len(route.segments), route.segments[1] or "")
            self._buckets.setdefault(key, []).append(route)

    def match(self, method: str, path: str) -> Match:
        if "//" in path:  # Glance's router reads "/v2//images" as "/v2/images" (not "x//")
            path = _INNER_SLASHES.sub("/", path)
        parts = path[1:].split("/")
        if len(parts) >= 2:
            for route in self._buckets.get((len(parts), parts[1]), ()):
                values = route.match(parts)
                if values is None:
                    continue
                handler = route.methods.get(method)
                if handler is not None:
                    return Match(handler[0], handler[1], handler[2], values)
                if route.allow is not None:
                    return Match(status=405, allow=route.allow)
        if method not in _IMPLEMENTED_METHODS:
            return NOT_IMPLEMENTED
        return NOT_FOUND
