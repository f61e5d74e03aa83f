"""JSON views of metadata definitions, shaped like Glance's (null fields are left out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceDetail,
    PropertyDefinition,
    ResourceType,
    ResourceTypeAssociation,
    normalize_property,
)

NS_SCHEMA = "/v2/schemas/metadefs/namespace"
OBJ_SCHEMA = "/v2/schemas/metadefs/object"


def iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def namespace_href(name: str) -> str:
    return f"/v2/metadefs/namespaces/{quote(name, safe=':')}"


def namespace_view(ns: Namespace) -> dict[str, Any]:
    """The namespace's own attributes (no children, no links)."""
    return _clean({
        "namespace": ns.namespace, "display_name": ns.display_name,
        "description": ns.description, "visibility": ns.visibility, "protected": ns.protected,
        "owner": ns.owner, "created_at": iso(ns.created_at), "updated_at": iso(ns.updated_at),
    })


def links(data: dict[str, Any], name: str) -> dict[str, Any]:
    data["self"] = namespace_href(name)
    data["schema"] = NS_SCHEMA
    return data


def property_schema(prop: PropertyDefinition) -> dict[str, Any]:
    """The definition as lists and namespaces show it: with its ``name`` first when the stored
    definition holds one (written through the properties API, as in Glance)."""
    schema = normalize_property(prop.schema)
    name = prop.schema.get("name")
    return {"name": name, **schema} if name is not None else schema


def properties_view(props: Any) -> dict[str, Any]:
    return {p.name: property_schema(p) for p in props}


def property_view(prop: PropertyDefinition) -> dict[str, Any]:
    return {"name": prop.name, **property_schema(prop)}


def object_view(obj: MetadefObject, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An object as shown and listed (``required`` and ``properties`` always present), or, with
    the request body as ``given``, as Glance echoes a create/update: those two only when the
    body had them."""
    data = _clean({
        "name": obj.name, "required": list(obj.required),
        "description": obj.description,
        "properties": {k: normalize_property(v) for k, v in obj.properties.items()},
        "created_at": iso(obj.created_at), "updated_at": iso(obj.updated_at),
        "self": f"{namespace_href(obj.namespace)}/objects/{obj.name}",
        "schema": OBJ_SCHEMA,
    })
    if given is not None:
        for key in ("required", "properties"):
            if key not in given:
                del data[key]
    return data


def tag_view(tag: MetadefTag) -> dict[str, Any]:
    return _clean({"name": tag.name, "created_at": iso(tag.created_at),
                   "updated_at": iso(tag.updated_at)})


def association_view(assoc: ResourceTypeAssociation, times: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"name": assoc.name, "prefix": assoc.prefix,
                            "properties_target": assoc.properties_target}
    if times:
        data.update(created_at=iso(assoc.created_at), updated_at=iso(assoc.updated_at))
    return _clean(data)


def resource_type_view(rt: ResourceType) -> dict[str, Any]:
    return _clean({"name": rt.name, "created_at": iso(rt.created_at),
                   "updated_at": iso(rt.updated_at)})


def detail_view(detail: NamespaceDetail) -> dict[str, Any]:
    """``GET /v2/metadefs/namespaces/{ns}``: the namespace with everything in it."""
    data = namespace_view(detail.namespace)
    if detail.associations:
        data["resource_type_associations"] = [association_view(a) for a in detail.associations]
    if detail.properties:
        data["properties"] = properties_view(detail.properties)
    if detail.objects:
        data["objects"] = [object_view(o) for o in detail.objects]
    if detail.tags:
        data["tags"] = [{"name": t.name} for t in detail.tags]
    return links(data, detail.namespace.namespace)
