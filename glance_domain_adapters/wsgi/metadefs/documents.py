"""Namespace documents: a metadefs namespace as JSON (an API body or a definitions file).

One shape serves ``POST /v2/metadefs/namespaces`` and the definition files an operator keeps
for ``glance-domain db load-metadefs`` (Glance's ``glance-manage db load_metadefs`` format):
the namespace's attributes plus ``properties`` (name -> definition), ``objects``, ``tags`` and
``resource_type_associations``. Both are validated against the same namespace schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glance_domain.errors import InvalidInput
from glance_domain.metadefs.model import (
    MetadefObject,
    MetadefTag,
    Namespace,
    NamespaceContents,
    PropertyDefinition,
    ResourceTypeAssociation,
    normalize_property,
)
from glance_domain_adapters.wsgi.schemas import SchemaValidator

#: The metadefs schema documents (Glance's structure, our descriptions).
SCHEMAS: dict[str, Any] = json.loads(
    Path(__file__).with_name("schemas.json").read_text(encoding="utf-8"))

NAMESPACE_VALIDATOR = SchemaValidator("namespace", SCHEMAS["namespace"])


def property_definition(
    namespace: str, name: str, body: dict[str, Any], *, named: bool = False,
) -> PropertyDefinition:
    """A property definition from a document. ``named``: written through the properties
    API, whose stored definition (as Glance's) also holds its name, so the name shows in the
    property lists and the namespace; definitions that came inside a namespace body do not."""
    schema = normalize_property(body)
    if named:
        schema = {"name": name, **schema}
    return PropertyDefinition(namespace=namespace, name=name, schema=schema)


def metadef_object(namespace: str, body: dict[str, Any]) -> MetadefObject:
    """An object definition from a document."""
    return MetadefObject(
        namespace=namespace, name=body["name"], description=body.get("description"),
        required=body.get("required") or (),
        properties={k: normalize_property(v) for k, v in (body.get("properties") or {}).items()},
    )


def _check_names(body: dict[str, Any]) -> None:
    """Every embedded object, tag and resource type association needs a name: the namespace
    schema (Glance's) leaves ``name`` optional inside them, but nothing can be stored without
    one (InvalidInput -> 400, where it was a KeyError or a database error)."""
    for key in ("objects", "tags", "resource_type_associations"):
        for item in body.get(key) or ():
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise InvalidInput(
                    f"Provided object does not match schema 'namespace': every item of "
                    f"'{key}' needs a 'name' string")


def namespace_from_document(body: dict[str, Any]) -> tuple[Namespace, NamespaceContents]:
    """The namespace and its embedded children described by a (schema-valid) document."""
    _check_names(body)
    name = body["namespace"]
    ns = Namespace(
        namespace=name, display_name=body.get("display_name"),
        description=body.get("description"),
        visibility=body.get("visibility") or "private",
        protected=bool(body.get("protected") or False), owner=body.get("owner"),
    )
    contents = NamespaceContents(
        properties=tuple(property_definition(name, k, v)
                         for k, v in (body.get("properties") or {}).items()),
        objects=tuple(metadef_object(name, o) for o in body.get("objects") or ()),
        tags=tuple(MetadefTag(namespace=name, name=t.get("name"))
                   for t in body.get("tags") or ()),
        associations=tuple(
            ResourceTypeAssociation(namespace=name, name=a.get("name"), prefix=a.get("prefix"),
                                    properties_target=a.get("properties_target"))
            for a in body.get("resource_type_associations") or ()),
    )
    return ns, contents


def read_namespace_file(path: Path) -> tuple[Namespace, NamespaceContents]:
    """Parse and validate one definitions file (InvalidInput naming the problem)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    except ValueError as exc:
        raise InvalidInput(f"{path} is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"{path}: a namespace document must be a JSON object")
    # the timestamps and links an export or an API answer carries are not definitions
    body = {k: v for k, v in body.items()
            if k not in ("self", "schema", "created_at", "updated_at")}
    message = NAMESPACE_VALIDATOR.error(body)
    if message is not None:
        raise InvalidInput(f"{path}: {message}")
    return namespace_from_document(body)
