"""DefaultPolicy: Glance's secure-RBAC default rules in plain Python (no oslo.policy).

Used when no oslo.policy enforcer is wired (embedding, tests). Personas: ``admin`` (any project),
project ``member`` (read/write on its project's images), project ``reader`` (read only).
Keystone puts implied roles in tokens (admin -> member -> reader); ``imply_roles=True`` (the
default) applies the same implications to bare role lists. Unknown rules fall back to Glance's
``default`` rule, which allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glance_domain.context import RequestContext
from glance_domain.errors import PolicyDenied

Target = Mapping[str, Any]
Check = Callable[["_Creds", Target], bool]

IMPLIED_ROLES = {"admin": ("member", "reader"), "member": ("reader",)}


class _Creds:
    __slots__ = ("admin", "project", "roles")

    def __init__(self, context: RequestContext, imply: bool) -> None:
        roles = {r.lower() for r in context.roles}
        if imply:
            for role in tuple(roles):
                roles.update(IMPLIED_ROLES.get(role, ()))
        self.roles = roles
        self.project = context.project_id
        self.admin = context.is_admin or "admin" in roles

    def owns(self, target: Target, key: str = "project_id") -> bool:
        # As oslo.policy's ``project_id:%(project_id)s``: the target's value, formatted as a
        # string, equals the caller's (so a caller with no project matches a null owner).
        return key in target and str(target[key]) == str(self.project)


def _admin(c: _Creds, t: Target) -> bool:
    return c.admin


def _service(c: _Creds, t: Target) -> bool:
    return c.admin or "service" in c.roles


def _project(role: str) -> Check:
    def check(c: _Creds, t: Target) -> bool:
        return c.admin or (role in c.roles and c.owns(t))

    return check


def _reachable(role: str) -> Check:
    """admin, or ``role`` and (own project, image member, or a public/community/shared image)."""

    def check(c: _Creds, t: Target) -> bool:
        if c.admin:
            return True
        if role not in c.roles:
            return False
        return (
            c.owns(t)
            or c.owns(t, "member_id")
            or t.get("visibility") in ("community", "public", "shared")
        )

    return check


def _add_image(c: _Creds, t: Target) -> bool:
    return c.admin or ("member" in c.roles and c.owns(t) and c.owns(t, "owner"))


def _add_location(c: _Creds, t: Target) -> bool:
    return _service(c, t) or ("member" in c.roles and c.owns(t) and c.owns(t, "owner"))


def _member_reader(c: _Creds, t: Target) -> bool:
    return c.admin or ("reader" in c.roles and (c.owns(t) or c.owns(t, "member_id")))


def _modify_member(c: _Creds, t: Target) -> bool:
    return c.admin or ("member" in c.roles and c.owns(t, "member_id"))


def _allow(c: _Creds, t: Target) -> bool:
    return True


def _get_namespace(c: _Creds, t: Target) -> bool:
    """admin, or reader and (own project or a public namespace)."""
    return c.admin or ("reader" in c.roles and (c.owns(t) or t.get("visibility") == "public"))


#: Metadata-definition rules: reads as ``_get_namespace`` (``get_metadef_namespaces`` is a
#: plain project reader rule), writes for admins only.
METADEF_READ_RULES = (
    "get_metadef_namespace", "get_metadef_object", "get_metadef_objects",
    "list_metadef_resource_types", "get_metadef_resource_type", "get_metadef_property",
    "get_metadef_properties", "get_metadef_tag", "get_metadef_tags",
)
METADEF_WRITE_RULES = (
    "modify_metadef_namespace", "add_metadef_namespace", "delete_metadef_namespace",
    "modify_metadef_object", "add_metadef_object", "delete_metadef_object",
    "add_metadef_resource_type_association", "remove_metadef_resource_type_association",
    "modify_metadef_property", "add_metadef_property", "remove_metadef_property",
    "modify_metadef_tag", "add_metadef_tag", "add_metadef_tags", "delete_metadef_tag",
    "delete_metadef_tags",
)


RULES: dict[str, Check] = {
    "context_is_admin": _admin,
    "service_api": _service,
    "add_image": _add_image,
    "get_image": _reachable("reader"),
    "get_images": _project("reader"),
    "modify_image": _project("member"),
    "delete_image": _project("member"),
    "publicize_image": _admin,
    "communitize_image": _project("member"),
    "download_image": _reachable("member"),
    "download_from_store": _reachable("member"),
    "upload_image": _project("member"),
    "delete_image_location": _admin,
    "get_image_location": _project("reader"),
    "set_image_location": _project("member"),
    "add_image_location": _add_location,
    "fetch_image_location": _service,
    "add_member": _project("member"),
    "delete_member": _project("member"),
    "get_member": _member_reader,
    "get_members": _member_reader,
    "modify_member": _modify_member,
    "deactivate": _project("member"),
    "reactivate": _project("member"),
    "copy_image": _admin,
    "manage_image_cache": _admin,
    "tasks_api_access": _admin,
    "get_task": _allow,
    "get_tasks": _allow,
    "add_task": _allow,
    "modify_task": _allow,
    "stores_info_detail": _service,
    "cache_image": _admin,
    "cache_list": _admin,
    "cache_delete": _admin,
    "cache_clean": _admin,
    "cache_prune": _admin,
    "list_cached_nodes": _admin,
    "metadef_default": _allow,
    "metadef_admin": _admin,
    "get_metadef_namespaces": _project("reader"),
    **{name: _get_namespace for name in METADEF_READ_RULES},
    **{name: _admin for name in METADEF_WRITE_RULES},
}


class DefaultPolicy:
    """PolicyEnforcer port implementing Glance's default rules; ``overrides`` replace rules."""

    def __init__(
        self, *, imply_roles: bool = True, overrides: Mapping[str, Check] | None = None
    ) -> None:
        self._imply = imply_roles
        self._rules = {**RULES, **(overrides or {})}

    def defines(self, rule: str) -> bool:
        """Whether ``rule`` has a check of its own (an unknown rule is allowed)."""
        return rule in self._rules

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        check = self._rules.get(rule, _allow)
        return check(_Creds(context, self._imply), target)

    def enforce(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> None:
        if not self.check(context, rule, target):
            raise PolicyDenied(rule)
