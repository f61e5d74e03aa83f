"""Policy: Glance's rule names, each fired once per operation through the PolicyEnforcer port.

Save operations map to rules from their ``action`` and the computed diff: ``update`` ->
``modify_image``; ``deactivate``/``reactivate``; location actions. ``publicize_image`` /
``communitize_image`` fire from ``check_visibility``, once per patch operation that sets
``/visibility`` to public/community (even to the current value), before ``modify_image`` (Glance's
order). A refusal on an image the caller
cannot ``get_image`` becomes NotFound, as in Glance.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from glance_domain import visibility
from glance_domain.context import RequestContext
from glance_domain.errors import Forbidden, NotFound, PolicyDenied
from glance_domain.importing.request import COPY_IMAGE, ImportRequest
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.model.member import Member
from glance_domain.ports import DataStream, PolicyEnforcer
from glance_domain.query import ImageQuery, ListScope
from glance_domain.targets import image_target, new_image_target, project_target

#: save action -> the rule it fires (``update`` is computed from the diff; None: the rule
#: fired earlier in the same operation, for ``add_location`` from ``measure_location``, which
#: reads the store before the save and so must be refused first).
SAVE_RULES: dict[str, str | None] = {
    "deactivate": "deactivate",
    "reactivate": "reactivate",
    "add_location": None,
    "set_location": "set_image_location",
    "delete_location": "delete_image_location",
}


class PolicyLayer(Layer):
    __slots__ = ("context", "policy")

    def __init__(self, inner: Layer, context: RequestContext, policy: PolicyEnforcer) -> None:
        self.inner = inner
        self.context = context
        self.policy = policy

    def _enforce(self, rule: str, image: Image) -> None:
        ctx = self.context
        target = image_target(ctx, image)
        if self.policy.check(ctx, rule, target):
            return
        if rule == "get_image" or not self.policy.check(ctx, "get_image", target):
            raise self._hidden(image)
        raise PolicyDenied(rule)

    def _hidden(self, image: Image) -> NotFound:
        """The 404 of an image the caller may not get: Glance's database layer names the id
        when the image is not visible at all; its policy layer answers a bare 404 ("The
        resource could not be found.") when only the rule refuses (e.g. no reader role)."""
        status = None
        if visibility.needs_membership(self.context, image):
            status = self.inner.member_status(image, self.context.owner or "")
        if visibility.can_see(self.context, image, status):
            return NotFound("")
        return NotFound(f"No image found with ID {image.id}")

    def check_visibility(self, image: Image, visibility: object) -> None:
        self._visibility_rule(visibility, image)
        self.inner.check_visibility(image, visibility)

    def _visibility_rule(self, visibility: object, target_image: Image) -> None:
        if visibility == "public":
            self._enforce("publicize_image", target_image)
        elif visibility == "community":
            self._enforce("communitize_image", target_image)

    # -- images ---------------------------------------------------------------------------
    def get(self, image_id: str) -> Image:
        image = self.inner.get(image_id)
        self._enforce("get_image", image)
        return image

    def list(self, query: ImageQuery, scope: ListScope | None) -> list[Image]:
        ctx, policy = self.context, self.policy
        policy.enforce(ctx, "get_images", project_target(ctx))
        images = self.inner.list(query, scope)
        return [i for i in images if policy.check(ctx, "get_image", image_target(ctx, i))]

    def add(self, image: Image) -> Image:
        ctx = self.context
        target = new_image_target(ctx, image)
        if not self.policy.check(ctx, "add_image", target):
            if image.owner != ctx.project_id:
                raise Forbidden(
                    f"You are not permitted to create images owned by '{image.owner}'"
                )
            raise PolicyDenied("add_image")
        if image.visibility == "public":
            self.policy.enforce(ctx, "publicize_image", target)
        elif image.visibility == "community":
            self.policy.enforce(ctx, "communitize_image", target)
        return self.inner.add(image)

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        if action in SAVE_RULES:
            rule = SAVE_RULES[action]
            if rule is not None:
                self._enforce(rule, before)
        else:
            # A visibility change's own rule was checked by check_visibility, per requested
            # change and before this (Glance's order); other saves keep it here.
            if action != "update" and after.visibility != before.visibility:
                self._visibility_rule(after.visibility, before)
            self._enforce("modify_image", before)
        return self.inner.save(before, after, action)

    def remove(self, image: Image) -> Image:
        self._enforce("delete_image", image)
        return self.inner.remove(image)

    # -- data -----------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        self._enforce("upload_image", image)
        return self.inner.upload(image, data, size, backend)

    def download(self, image: Image, offset: int, length: int | None) -> DataStream | None:
        self._enforce("download_image", image)
        return self.inner.download(image, offset, length)

    def delete_from_store(self, image: Image, backend: str) -> Image:
        self._enforce("delete_image_location", image)
        return self.inner.delete_from_store(image, backend)

    def measure_location(self, image: Image, url: str,
                         rule: str = "add_image_location") -> int:
        self._enforce(rule, image)  # the add-location save fires no rule
        return self.inner.measure_location(image, url, rule)

    def get_locations(self, image: Image) -> builtins.list[Location]:
        self._enforce("fetch_image_location", image)
        return self.inner.get_locations(image)

    # -- import ---------------------------------------------------------------------------
    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        # Staging has no rule of its own in Glance: it checks modify_image.
        self._enforce("modify_image", image)
        return self.inner.stage(image, data, size)

    def check_property(self, image: Image, name: str, operation: str) -> None:
        # Glance checks modify_image before it applies a change: a caller who may not modify
        # the image learns nothing of the property protection rules
        self._enforce("modify_image", image)
        self.inner.check_property(image, name, operation)

    def check_api_rule(self, rule: str, image: Image | None = None) -> None:
        target = {} if image is None else image_target(self.context, image)
        self.policy.enforce(self.context, rule, target)
        self.inner.check_api_rule(rule, image)

    def check_import(self, image: Image, request: ImportRequest) -> None:
        if request.method == COPY_IMAGE:
            ctx = self.context
            target = image_target(ctx, image)
            if not self.policy.check(ctx, "copy_image", target):
                if not self.policy.check(ctx, "get_image", target):
                    raise NotFound(f"No image found with ID {image.id}")
                raise PolicyDenied("copy_image")
        else:
            self._enforce("modify_image", image)
        self.inner.check_import(image, request)

    # -- members --------------------------------------------------------------------------
    def _member_rule(self, rule: str, image: Image) -> None:
        ctx = self.context
        target = image_target(ctx, image)
        if not self.policy.check(ctx, rule, target):
            raise PolicyDenied(rule)

    def list_members(self, image: Image) -> builtins.list[Member]:
        self._member_rule("get_members", image)
        return self.inner.list_members(image)

    def get_member(self, image: Image, member_id: str) -> Member:
        self._member_rule("get_member", image)
        return self.inner.get_member(image, member_id)

    def add_member(self, image: Image, member: Member) -> Member:
        self._member_rule("add_member", image)
        return self.inner.add_member(image, member)

    def save_member(self, image: Image, before: Member, after: Member) -> Member:
        self._member_rule("modify_member", image)
        return self.inner.save_member(image, before, after)

    def remove_member(self, image: Image, member: Member) -> None:
        self._member_rule("delete_member", image)
        self.inner.remove_member(image, member)
