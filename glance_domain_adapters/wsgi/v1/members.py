"""``/v1/images/{id}/members[/{member}]`` and ``/v1/shared-images/{tenant}`` on v2's members.

v1 memberships are ``{"member_id", "can_share"}``; v2 has no re-sharing, so ``can_share`` is
always false (a true one asked for is ignored) and v2's member status is not shown. Who may
list, add or remove members is v2's rule (the owner manages them; a member sees its own).
"""

from __future__ import annotations

from typing import Any

from glance_domain.errors import Conflict, DomainError, NotFound
from glance_domain.model.image import Image
from glance_domain.query import ImageQuery
from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.errors import bad_request
from glance_domain_adapters.wsgi.http import Request, Response, bare_response, json_response
from glance_domain_adapters.wsgi.resource import has_body, read_json
from glance_domain_adapters.wsgi.v1.images import V1Resource, _Passthrough, fetch

#: Most shared images a ``/v1/shared-images`` answer walks through (pages of the listing).
SHARED_SCAN_LIMIT = 10000


def _membership(member_id: str) -> dict[str, Any]:
    return {"member_id": member_id, "can_share": False}


def _memberships(body: Any) -> list[str]:
    """The member ids of a replace-all body ``{"memberships": [{"member_id": ...}, ...]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("memberships"), list):
        raise bad_request("Invalid membership association: expected "
                          '{"memberships": [{"member_id": "a project id"}, ...]}')
    ids: list[str] = []
    for item in body["memberships"]:
        member = item.get("member_id") if isinstance(item, dict) else None
        if not isinstance(member, str) or not member:
            raise bad_request(f"Invalid membership association: {item!r}")
        if member not in ids:
            ids.append(member)
    return ids


class V1MembersController:
    def __init__(self, settings: DomainSettings) -> None:
        self.settings = settings

    def index(self, req: Request) -> Response:
        image_id = req.urlvars["image_id"]
        fetch(req, image_id)
        members = req.service.list_members(image_id)
        return json_response({"members": [_membership(m.member_id) for m in members]})

    def update(self, req: Request) -> Response:
        """Add one member (an existing one is left as it is)."""
        image_id = req.urlvars["image_id"]
        if has_body(req):
            read_json(req)  # v1's optional {"member": {"can_share": ...}}: validated only
        fetch(req, image_id)
        try:
            req.service.add_member(image_id, req.urlvars["member_id"])
        except Conflict:
            req.service.get_member(image_id, req.urlvars["member_id"])
        return bare_response(204)

    def update_all(self, req: Request) -> Response:
        """Replace the members by those of the body (added first, then the others removed)."""
        image_id = req.urlvars["image_id"]
        wanted = _memberships(read_json(req))
        fetch(req, image_id)
        svc = req.service
        present = [m.member_id for m in svc.list_members(image_id)]
        for member in wanted:
            if member not in present:
                svc.add_member(image_id, member)
        for member in present:
            if member not in wanted:
                svc.remove_member(image_id, member)
        return bare_response(204)

    def delete(self, req: Request) -> Response:
        image_id = req.urlvars["image_id"]
        fetch(req, image_id)
        req.service.remove_member(image_id, req.urlvars["member_id"])
        return bare_response(204)

    def index_shared_images(self, req: Request) -> Response:
        """The images shared with a tenant that the caller may see: its own shares when it is
        that tenant (or an admin), else only the caller's images shared with it."""
        tenant = req.urlvars["member_id"]
        ctx = req.context
        mine_only = not ctx.is_admin and ctx.project_id != tenant
        found: list[dict[str, Any]] = []
        for image in self._shared(req):
            if mine_only and image.owner != ctx.project_id:
                continue
            try:
                req.service.get_member(image.id, tenant)
            except (NotFound, DomainError):
                continue
            found.append({"image_id": image.id, "can_share": False})
        return json_response({"shared_images": found})

    def _shared(self, req: Request) -> list[Image]:
        images: list[Image] = []
        marker: str | None = None
        page = self.settings.api_limit_max
        while len(images) < SHARED_SCAN_LIMIT:
            batch = req.service.list_images(ImageQuery(
                visibility="shared", member_status="all", os_hidden=None, limit=page,
                marker=marker))
            images.extend(batch)
            if len(batch) < page:
                break
            marker = batch[-1].id
        return images


def create_resource(settings: DomainSettings) -> V1Resource:
    return V1Resource("v1_members", V1MembersController(settings),
                      serializer=_Passthrough())
