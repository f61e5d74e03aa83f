"""The legacy Image API v1 (``/v1``), served only with ``enable_v1_api = true``.

An adapter only: it turns v1's HTTP (``x-image-meta-*`` headers, data in the body, v1's JSON
documents) into calls on the caller's :class:`~glance_domain.service.ImageService` (the same
policy, quotas, notifications and property protections as v2) and never touches a repository
or a store itself. v1's historic holes (status forging, ``copy_from``/``location`` reads of
arbitrary URLs, other projects' private images) are closed by going through the v2 rules.
See docs/api-v1.md.
"""

from __future__ import annotations

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.resource import Resource
from glance_domain_adapters.wsgi.routes import Methods
from glance_domain_adapters.wsgi.settings import ApiSettings
from glance_domain_adapters.wsgi.v1 import images, members

_IMG = "/v1/images/{image_id}"

#: v1's routes (Glance's v1 router): template, method -> (resource, action, body_reject), Allow.
ROUTE_TABLE: tuple[tuple[str, Methods, str | None], ...] = (
    ("/v1/images", {
        "GET": ("v1_images", "index", False), "POST": ("v1_images", "create", False),
    }, "GET, POST"),
    ("/v1/images/detail", {
        "GET": ("v1_images", "detail", False), "HEAD": ("v1_images", "detail_head", False),
    }, "GET, HEAD"),
    (_IMG, {
        "HEAD": ("v1_images", "meta", False), "GET": ("v1_images", "show", False),
        "PUT": ("v1_images", "update", False), "DELETE": ("v1_images", "delete", False),
    }, "GET, HEAD, PUT, DELETE"),
    (_IMG + "/members", {
        "GET": ("v1_members", "index", False), "PUT": ("v1_members", "update_all", False),
    }, "GET, PUT"),
    (_IMG + "/members/{member_id}", {
        "PUT": ("v1_members", "update", False), "DELETE": ("v1_members", "delete", False),
    }, "PUT, DELETE"),
    ("/v1/shared-images/{member_id}", {
        "GET": ("v1_members", "index_shared_images", False)}, "GET"),
)


def create_resources(settings: DomainSettings, api: ApiSettings) -> dict[str, Resource]:
    """The v1 resources, keyed as in :data:`ROUTE_TABLE`."""
    return {
        "v1_images": images.create_resource(settings, api),
        "v1_members": members.create_resource(settings),
    }
