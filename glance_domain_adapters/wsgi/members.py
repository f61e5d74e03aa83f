"""``/v2/images/{id}/members[/{member_id}]``: sharing an image with other projects."""

from __future__ import annotations

from typing import Any

from glance_domain.model.member import Member
from glance_domain_adapters.wsgi.errors import bad_request
from glance_domain_adapters.wsgi.http import Request, Response, bare_response, json_response
from glance_domain_adapters.wsgi.resource import Resource, read_json
from glance_domain_adapters.wsgi.views import member_view


class MembersDeserializer:
    def create(self, req: Request) -> dict[str, Any]:
        body = read_json(req)
        if not isinstance(body, dict):
            raise bad_request('Expected a member in the form: {"member": "image_id"}')
        if "member" not in body:
            raise bad_request("Member to be added not specified")
        member_id = body["member"]
        if not member_id:
            raise bad_request("Member can't be empty")
        if not isinstance(member_id, str):
            raise bad_request("Member must be a string")
        return {"member_id": member_id}

    def update(self, req: Request) -> dict[str, Any]:
        body = read_json(req)
        if not isinstance(body, dict):
            raise bad_request('Expected a status in the form: {"status": "status"}')
        if "status" not in body:
            raise bad_request("Status not specified")
        return {"status": body["status"]}


class MembersController:
    """Errors become responses in ``wsgi/errors.py`` (Glance's wording per action there)."""

    def index(self, req: Request) -> list[Member]:
        return req.service.list_members(req.urlvars["image_id"])

    def show(self, req: Request) -> Member:
        return req.service.get_member(req.urlvars["image_id"], req.urlvars["member_id"])

    def create(self, req: Request, member_id: str) -> Member:
        return req.service.add_member(req.urlvars["image_id"], member_id)

    def update(self, req: Request, status: Any) -> Member:
        if not isinstance(status, str):
            raise bad_request(
                'Incorrect request: Status must be "pending", "accepted" or "rejected".')
        return req.service.update_member(req.urlvars["image_id"], req.urlvars["member_id"],
                                         status)

    def delete(self, req: Request) -> None:
        req.service.remove_member(req.urlvars["image_id"], req.urlvars["member_id"])


class MembersSerializer:
    def index(self, req: Request, members: list[Member]) -> Response:
        return json_response(
            {"members": [member_view(m) for m in members], "schema": "/v2/schemas/members"}
        )

    def show(self, req: Request, member: Member) -> Response:
        return json_response(member_view(member))

    create = update = show

    def delete(self, req: Request, result: None) -> Response:
        return bare_response(204)


def create_resource() -> Resource:
    return Resource(
        "image_members", MembersController(), MembersDeserializer(), MembersSerializer()
    )
