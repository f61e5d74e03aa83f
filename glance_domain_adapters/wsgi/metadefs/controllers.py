"""``/v2/metadefs/...``: namespaces, properties, objects, tags and resource types.

Deserialization (query parameters, JSON bodies validated against the metadefs schemas, read-only
attributes refused with 403), the MetadefService call, and Glance's response shapes and
statuses. Domain errors reach the app's error table; only Glance's "Namespace X not found"
wording for operations inside a namespace is applied here.
"""

from __future__ import annotations

import copy
import reprlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from glance_domain.metadefs import errors as me
from glance_domain.metadefs.model import (
    NAMESPACE_VISIBILITIES,
    Namespace,
    NamespaceQuery,
    PageQuery,
    ResourceTypeAssociation,
)
from glance_domain.metadefs.service import MetadefService
from glance_domain_adapters.wsgi.errors import bad_request, forbidden, http_error
from glance_domain_adapters.wsgi.http import Request, Response, empty_response, json_response
from glance_domain_adapters.wsgi.metadefs import views
from glance_domain_adapters.wsgi.metadefs.documents import (
    SCHEMAS,
    metadef_object,
    namespace_from_document,
    property_definition,
)
from glance_domain_adapters.wsgi.resource import Resource, read_json
from glance_domain_adapters.wsgi.schemas import SchemaValidator

TAGS_BODY_SCHEMA: dict[str, Any] = {
    "name": "tags",
    "properties": {"tags": {"type": "array", "items": {
        "type": "object", "properties": {"name": {"type": "string"}},
        "required": ["name"], "additionalProperties": False}}},
    "additionalProperties": False,
}
DEFAULT_LIMIT = 25
MAX_LIMIT = 1000

ServiceFactory = Callable[[Request], MetadefService]


def schema_documents() -> dict[str, Any]:
    """``metadefs/<name>`` -> document, for ``/v2/schemas/metadefs/<name>``."""
    return {f"metadefs/{name}": copy.deepcopy(doc) for name, doc in SCHEMAS.items()}


@contextmanager
def namespace_errors(name: str) -> Iterator[None]:
    """Glance's wording when the namespace of a child operation is missing or hidden."""
    try:
        yield
    except me.NamespaceNotFound as exc:
        if exc.name == name:
            raise http_error(404, f"Namespace {name} not found") from None
        raise


def _body(req: Request, validator: SchemaValidator, read_only: tuple[str, ...]) -> Any:
    body = read_json(req)
    if not isinstance(body, dict):
        # read_json also takes arrays (image PATCH bodies); the metadefs schemas, like
        # Glance's, have no top-level type, so an array would pass validation
        raise bad_request(f"Provided object does not match schema '{validator.name}': "
                          f"{reprlib.repr(body)} is not of type 'object'")
    for key in read_only:
        if key in body:
            raise forbidden(f"Attribute '{key}' is read-only.")
    message = validator.error(body)
    if message is not None:
        raise bad_request(message)
    return body


def _page(req: Request, default_limit: int | None) -> tuple[PageQuery, dict[str, str]]:
    params = dict(req.params)
    sort_dir = params.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise bad_request(f"Invalid sort direction: {sort_dir}")
    limit: int | None = default_limit
    raw = params.get("limit")
    if raw:
        try:
            limit = int(raw)
        except ValueError:
            raise bad_request("limit param must be an integer") from None
        if limit < 0:
            raise bad_request("limit param must be positive")
    if limit is not None:
        limit = min(MAX_LIMIT, limit)
    page = PageQuery(limit=limit, marker=params.get("marker") or None,
                     sort_key=params.get("sort_key", "created_at"), sort_dir=sort_dir)
    return page, params


class MetadefController:
    """Every metadefs action; ``service(req)`` gives the caller's MetadefService."""

    def __init__(self, service: ServiceFactory) -> None:
        self.service = service
        self.validators = {
            name: SchemaValidator(name, SCHEMAS[key]) for name, key in (
                ("namespace", "namespace"), ("property", "property"), ("object", "object"),
                ("tag", "tag"), ("resource_type_association", "resource_type"))
        }
        self.tags_validator = SchemaValidator("tags", TAGS_BODY_SCHEMA)

    # -- namespaces ----------------------------------------------------------------------------
    def index_namespaces(self, req: Request) -> Response:
        page, params = _page(req, DEFAULT_LIMIT)
        visibility = params.get("visibility")
        if visibility and visibility not in NAMESPACE_VISIBILITIES:
            raise bad_request(f"Invalid visibility value: {visibility}")
        resource_types = tuple(
            t.strip() for t in params.get("resource_types", "").split(",") if t.strip())
        query = NamespaceQuery(
            limit=page.limit, marker=page.marker, sort_key=page.sort_key,
            sort_dir=page.sort_dir, visibility=visibility or None,
            resource_types=resource_types)
        try:
            found = self.service(req).list_namespaces(query)
        except me.NamespaceHidden as exc:
            raise forbidden(exc.message) from None
        items = []
        for ns, assocs in found:
            data = views.namespace_view(ns)
            if assocs:
                data["resource_type_associations"] = [views.association_view(a) for a in assocs]
            items.append(views.links(data, ns.namespace))
        rest = {k: v for k, v in params.items() if k != "marker"}
        first = "/v2/metadefs/namespaces"
        if rest:
            first += "?" + urlencode(rest)
        result: dict[str, Any] = {"namespaces": items,
                                  "schema": "/v2/schemas/metadefs/namespaces", "first": first}
        if items and len(items) == query.limit:
            result["next"] = "/v2/metadefs/namespaces?" + urlencode(
                {**rest, "marker": found[-1][0].namespace})
        return json_response(result)

    def create_namespace(self, req: Request) -> Response:
        body = _body(req, self.validators["namespace"], ("self", "schema", "created_at",
                                                         "updated_at"))
        name = body["namespace"]
        ns, contents = namespace_from_document(body)
        stored = self.service(req).create_namespace(ns, contents)
        data = views.namespace_view(stored)
        if contents.associations:
            data["resource_type_associations"] = [
                views.association_view(a, times=False) for a in contents.associations]
        if contents.properties:
            data["properties"] = views.properties_view(contents.properties)
        if contents.objects:
            data["objects"] = [
                {k: v for k, v in views.object_view(o, given=body_o).items()
                 if k in ("name", "required", "description", "properties")}
                for o, body_o in zip(contents.objects, body.get("objects") or (), strict=True)]
        if contents.tags:
            data["tags"] = [{"name": t.name} for t in contents.tags]
        response = json_response(views.links(data, name), 201)
        response.headers.append(("Location", req.application_url + views.namespace_href(name)))
        return response

    def show_namespace(self, req: Request) -> Response:
        name = req.urlvars["namespace"]
        resource_type = dict(req.params).get("resource_type") or None
        try:
            detail = self.service(req).get_namespace(name, resource_type)
        except me.NamespaceHidden:
            raise http_error(404) from None
        return json_response(views.detail_view(detail))

    def update_namespace(self, req: Request) -> Response:
        name = req.urlvars["namespace"]
        body = _body(req, self.validators["namespace"], ("self", "schema", "created_at",
                                                         "updated_at"))
        new = Namespace(
            namespace=body["namespace"], display_name=body.get("display_name"),
            description=body.get("description"),
            visibility=body.get("visibility") or "private",
            protected=bool(body.get("protected") or False), owner=body.get("owner"),
        )
        with namespace_errors(name):
            stored = self.service(req).update_namespace(name, new)
        return json_response(views.links(views.namespace_view(stored), stored.namespace))

    def delete_namespace(self, req: Request) -> Response:
        name = req.urlvars["namespace"]
        with namespace_errors(name):
            self.service(req).delete_namespace(name)
        return empty_response(204)

    def _delete_contents(self, req: Request, kind: str) -> Response:
        name = req.urlvars["namespace"]
        with namespace_errors(name):
            self.service(req).delete_contents(name, kind)
        return empty_response(204)

    def delete_properties(self, req: Request) -> Response:
        return self._delete_contents(req, "properties")

    def delete_objects(self, req: Request) -> Response:
        return self._delete_contents(req, "objects")

    def delete_tags(self, req: Request) -> Response:
        return self._delete_contents(req, "tags")

    # -- properties ----------------------------------------------------------------------------
    def index_properties(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            props = self.service(req).list_properties(ns)
        return json_response({"properties": views.properties_view(props)})

    def show_property(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        resource_type = dict(req.params).get("resource_type") or None
        with namespace_errors(ns):
            prop = self.service(req).get_property(ns, req.urlvars["name"], resource_type)
        return json_response(views.property_view(prop))

    def create_property(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["property"], ("created_at", "updated_at"))
        with namespace_errors(ns):
            prop = self.service(req).create_property(
                property_definition(ns, body["name"], body, named=True))
        return json_response(views.property_view(prop), 201)

    def update_property(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["property"], ("created_at", "updated_at"))
        with namespace_errors(ns):
            prop = self.service(req).update_property(
                req.urlvars["name"], property_definition(ns, body["name"], body, named=True))
        return json_response(views.property_view(prop))

    def delete_property(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            self.service(req).delete_property(ns, req.urlvars["name"])
        return empty_response(204)

    # -- objects -------------------------------------------------------------------------------
    def index_objects(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        page, _params = _page(req, None)
        try:
            objects = self.service(req).list_objects(ns, page)
        except me.NamespaceHidden:
            raise http_error(404, f"Namespace {ns} not found") from None
        return json_response({"objects": [views.object_view(o) for o in objects],
                              "schema": "v2/schemas/metadefs/objects"})

    def show_object(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            obj = self.service(req).get_object(ns, req.urlvars["name"])
        return json_response(views.object_view(obj))

    def create_object(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["object"], ("self", "schema", "created_at",
                                                      "updated_at"))
        with namespace_errors(ns):
            obj = self.service(req).create_object(metadef_object(ns, body))
        return json_response(views.object_view(obj, given=body), 201)

    def update_object(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["object"], ("self", "schema", "created_at",
                                                      "updated_at"))
        with namespace_errors(ns):
            obj = self.service(req).update_object(req.urlvars["name"], metadef_object(ns, body))
        return json_response(views.object_view(obj, given=body))

    def delete_object(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            self.service(req).delete_object(ns, req.urlvars["name"])
        return empty_response(204)

    # -- tags ----------------------------------------------------------------------------------
    def index_tags(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        page, params = _page(req, None)
        visibility = params.get("visibility")
        if visibility and visibility not in ("public", "private", "shared"):
            raise bad_request(f"Invalid visibility value: {visibility}")
        with namespace_errors(ns):
            tags = self.service(req).list_tags(ns, page)
        return json_response({"tags": [{"name": t.name} for t in tags]})

    def show_tag(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            tag = self.service(req).get_tag(ns, req.urlvars["name"])
        return json_response(views.tag_view(tag))

    def create_tag(self, req: Request) -> Response:
        ns, name = req.urlvars["namespace"], req.urlvars["name"]
        message = self.validators["tag"].error({"name": name})
        with namespace_errors(ns):
            service = self.service(req)
            service.namespace(ns)
            if message is not None:
                raise bad_request(message)
            tag = service.create_tag(ns, name)
        return json_response(views.tag_view(tag), 201)

    def create_tags(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.tags_validator, ("created_at", "updated_at"))
        append = (req.header("X-Openstack-Append") or "").strip().lower() in (
            "1", "t", "true", "on", "y", "yes")
        names = [t["name"] for t in body.get("tags") or ()]
        with namespace_errors(ns):
            tags = self.service(req).create_tags(ns, names, append=append)
        return json_response({"tags": [{"name": t.name} for t in tags]}, 201)

    def update_tag(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["tag"], ("created_at", "updated_at"))
        with namespace_errors(ns):
            tag = self.service(req).update_tag(ns, req.urlvars["name"], body["name"])
        return json_response(views.tag_view(tag))

    def delete_tag(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            self.service(req).delete_tag(ns, req.urlvars["name"])
        return empty_response(204)

    # -- resource types ------------------------------------------------------------------------
    def index_resource_types(self, req: Request) -> Response:
        types = self.service(req).list_resource_types()
        return json_response({"resource_types": [views.resource_type_view(t) for t in types]})

    def show_associations(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        with namespace_errors(ns):
            assocs = self.service(req).list_associations(ns)
        return json_response(
            {"resource_type_associations": [views.association_view(a) for a in assocs]})

    def create_association(self, req: Request) -> Response:
        ns = req.urlvars["namespace"]
        body = _body(req, self.validators["resource_type_association"],
                     ("created_at", "updated_at"))
        assoc = ResourceTypeAssociation(
            namespace=ns, name=body["name"], prefix=body.get("prefix"),
            properties_target=body.get("properties_target"))
        with namespace_errors(ns):
            stored = self.service(req).create_association(assoc)
        return json_response(views.association_view(stored), 201)

    def delete_association(self, req: Request) -> Response:
        ns, name = req.urlvars["namespace"], req.urlvars["resource_type"]
        try:
            with namespace_errors(ns):
                self.service(req).delete_association(ns, name)
        except me.NotFound as exc:
            if isinstance(exc, me.NamespaceNotFound):
                raise
            raise http_error(404, f"Failed to find resource type {name} to delete") from None
        return empty_response(204)


class _Serializer:
    """The controller already returns responses."""

    def default(self, req: Request, result: Response) -> Response:
        return result


def create_resource(service: ServiceFactory) -> Resource:
    return Resource("metadefs", MetadefController(service), serializer=_Serializer())
