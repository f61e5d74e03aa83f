"""The one table mapping domain errors to HTTP status codes, and the error responses.

Glance turns each exception into a ``webob.exc`` error whose body webob renders according to the
``Accept`` header (JSON ``{"message", "code", "title"}``, HTML or plain text); python-glanceclient
and openstacksdk parse all three. We raise the same webob exceptions so bodies match byte for byte.

A few Glance controllers map the same domain failure to a different status than the rest of the
API (for example an invalid status transition is 400 on deactivate/reactivate/delete but 409 on
upload); those exceptions to the table are listed in ``ACTION_OVERRIDES`` next to it. Others word
the failure their own way ("Not allowed to create members for image X."): ``MESSAGE_OVERRIDES``.
Controllers never catch domain errors themselves.

Where a Glance controller hands its message to webob positionally (``HTTPForbidden(msg)``)
rather than as ``explanation=msg``, webob keeps the status's standard explanation ("Access was
denied to this resource.", "There was a conflict when trying to complete your request.") and
renders the message as the *detail* under it. Which messages Glance raises that way is listed
once, in ``AS_DETAIL``; ``from_domain`` applies it to every error, whatever its origin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs
import webob.exc

from glance_domain import errors as e

#: Domain error class -> HTTP status (the most specific class in an error's MRO wins).
STATUS_BY_ERROR: Mapping[type[e.DomainError], int] = {
    e.NotFound: 404,
    e.Forbidden: 403,
    e.ReadOnlyAttribute: 403,
    e.ReservedAttribute: 403,
    e.InvalidInput: 400,
    e.Conflict: 409,
    e.Duplicate: 409,
    e.InvalidStatusTransition: 409,
    e.QuotaExceeded: 413,
    e.SizeLimitExceeded: 413,
    e.RangeNotSatisfiable: 416,
    e.InvalidImageData: 415,
    e.StoreUnavailable: 503,
    e.ServiceUnavailable: 503,
    e.DomainError: 500,
}

#: (resource, action) -> overrides of the table, as Glance's controllers do them.
ACTION_OVERRIDES: Mapping[tuple[str, str], Mapping[type[e.DomainError], int]] = {
    # image_actions: InvalidImageStatusTransition -> HTTPBadRequest
    ("image_actions", "deactivate"): {e.InvalidStatusTransition: 400},
    ("image_actions", "reactivate"): {e.InvalidStatusTransition: 400},
    # images.delete: InvalidImageStatusTransition -> HTTPBadRequest
    ("images", "delete"): {e.InvalidStatusTransition: 400},
    # images.index: an unknown marker (NotFound) or bad filter value -> HTTPBadRequest
    ("images", "index"): {e.NotFound: 400},
    # images.update/create: a duplicate location is "Invalid" in Glance -> HTTPBadRequest
    ("images", "update"): {e.Duplicate: 400, e.InvalidStatusTransition: 409},
    # image_members.show: any Forbidden becomes HTTPNotFound
    ("image_members", "show"): {e.Forbidden: 404},
    # images.get_task_info: NotFound and Forbidden both -> bare HTTPNotFound
    ("images", "get_task_info"): {e.Forbidden: 404},
    # delete_from_store: "image is not stored in store" (Invalid) -> HTTPNotFound
    ("images", "delete_from_store"): {e.InvalidInput: 404},
}




@attrs.frozen
class Detail:
    """A message shown as webob's *detail*, under the status's standard explanation."""

    template: str


#: The domain error's own text, unchanged (e.g. policy denials a controller lets through).
KEEP = "{message}"

#: (resource, action) -> {error class: message}, as Glance's controllers word them; the most
#: specific class in the error's MRO wins. A message is a ``str.format`` template over the URL
#: variables (``{image_id}``...) and ``{message}`` (the domain error's text), a ``Detail``, or
#: None for webob's bare default body.
MESSAGE_OVERRIDES: Mapping[
    tuple[str, str], Mapping[type[e.DomainError], str | Detail | None]
] = {
    ("tasks", "get"): {e.NotFound: "Could not find task {task_id}"},
    # images.create: a property protection refusal (ReservedProperty) is an explanation, not
    # the deserializer's positional "Attribute 'x' is reserved." of AS_DETAIL
    ("images", "create"): {e.ProtectedProperty: KEEP},
    ("image_members", "index"): {
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to list members for image {image_id}: {message}",
    },
    ("image_members", "create"): {
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to create members for image {image_id}.",
        e.QuotaExceeded: "Image member limit exceeded for image {image_id}: {message}:",
    },
    ("image_members", "update"): {
        e.InvalidInput: "Incorrect request: {message}",
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to update members for image {image_id}.",
    },
    ("image_members", "delete"): {
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to delete members for image {image_id}.",
    },
    ("image_tags", "update"): {
        e.NotFound: "Image {image_id} not found.",
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to update tags for image {image_id}.",
        e.InvalidInput: "Could not update image: {message}",
        e.QuotaExceeded: "Image tag limit exceeded for image {image_id}: {message}:",
    },
    ("image_tags", "delete"): {
        e.PolicyDenied: KEEP,
        e.Forbidden: "Not allowed to delete tags for image {image_id}.",
    },
    # images.get_task_info: a bare HTTPNotFound
    ("images", "get_task_info"): {e.NotFound: None},
    # image_data.upload: webob's 415 explanation, the inspector's verdict as the detail
    ("image_data", "upload"): {e.InvalidImageData: Detail(KEEP)},
}


def _patterns(*templates: str) -> tuple[re.Pattern[str], ...]:
    """Whole-message patterns; ``*`` stands for a name or value Glance interpolates."""
    return tuple(
        re.compile(".+".join(re.escape(part) for part in t.split("*")) + r"\Z", re.DOTALL)
        for t in templates
    )


#: (resource, action) -> messages Glance passes to webob positionally, so they are rendered as
#: the detail under webob's standard explanation of the status.
AS_DETAIL: Mapping[tuple[str, str], tuple[re.Pattern[str], ...]] = {
    ("images", "create"): (
        # ImagesController deserializer: reserved names (its 'location', 'deleted', 'os_glance_*'
        # check; the factory's "Attribute 'locations' is reserved." is an explanation)
        re.compile(r"Attribute '(?!locations')[^']*' is reserved\.\Z"),
        # api.v2.policy add_image: the friendlier message for a foreign owner
        *_patterns("You are not permitted to create images owned by '*'"),
    ),
    ("images", "update"): _patterns(
        "Cannot set locations to empty list.",  # _do_replace
        "Owner can't be updated by non admin.",  # _do_replace
        "Property * does not exist.",  # _do_replace / _do_remove (409)
        "Property * may not be removed.",  # _do_remove
        "Cannot remove last location in the image.",  # _do_remove (re-raised Forbidden)
    ),
}


def _as_detail(message: str, resource: str, action: str) -> bool:
    return any(p.match(message) for p in AS_DETAIL.get((resource, action), ()))


def status_for(error: e.DomainError, resource: str = "", action: str = "") -> int:
    """The HTTP status Glance answers for ``error`` raised by ``resource.action``."""
    overrides = ACTION_OVERRIDES.get((resource, action))
    for cls in type(error).__mro__:
        if overrides is not None and cls in overrides:
            return overrides[cls]
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 500


def http_error(
    status: int, explanation: str | None = None, *, detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> webob.exc.HTTPException:
    """A webob error response (also an exception) with Glance's explanation/detail."""
    cls = webob.exc.status_map.get(status, webob.exc.HTTPInternalServerError)
    kwargs: dict[str, object] = {}
    if explanation is not None:
        kwargs["explanation"] = explanation
    if headers:
        kwargs["headers"] = list(headers.items())
    exc: webob.exc.HTTPException = cls(detail=detail, **kwargs)
    return exc


def from_domain(
    error: e.DomainError, resource: str = "", action: str = "", message: str | None = None,
    *, variables: Mapping[str, str] | None = None,
) -> webob.exc.HTTPException:
    """The webob error for a domain error raised by ``resource.action`` (``variables``: the
    request's URL variables, for the message templates)."""
    status = status_for(error, resource, action)
    overrides = MESSAGE_OVERRIDES.get((resource, action))
    if overrides is not None:
        for cls in type(error).__mro__:
            if cls in overrides:
                template = overrides[cls]
                if template is None:
                    return http_error(status)
                values = {**(variables or {}), "message": error.message}
                if isinstance(template, Detail):
                    return http_error(status, detail=template.template.format_map(values))
                return http_error(status, template.format_map(values) or None)
    text = message or error.message or None
    if text is not None and _as_detail(text, resource, action):
        return http_error(status, detail=text)
    return http_error(status, text)


def bad_request(msg: str) -> webob.exc.HTTPException:
    return http_error(400, msg)


def not_found(msg: str | None = None) -> webob.exc.HTTPException:
    return http_error(404, msg)


def forbidden(msg: str | None = None) -> webob.exc.HTTPException:
    return http_error(403, msg)


def conflict(msg: str | None = None) -> webob.exc.HTTPException:
    return http_error(409, msg)
