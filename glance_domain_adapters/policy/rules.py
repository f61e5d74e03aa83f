"""Default policy rules: Glance's rule names and secure-RBAC defaults, for oslo.policy.

The rule names and check strings are Glance's (2023.2+ "new defaults": admin, member, reader
personas, project scope), so an operator's existing Glance ``policy.yaml`` applies unchanged.
Targets carry the image's owner as ``project_id`` (plus ``owner`` when creating), its
``visibility`` and, for member rules, ``member_id``. Deprecated legacy defaults are not
registered: with ``[oslo_policy] enforce_new_defaults = True`` (oslo.policy's default) they would
be ignored anyway.

Metadata-definition (metadef) rules are Glance's too: reads need a reader of the namespace's
project or a public namespace, writes ``metadef_admin`` (admins).
"""

from __future__ import annotations

from oslo_policy import policy

# -- building blocks of check strings -----------------------------------------------------------

ADMIN = "rule:context_is_admin"
DEFAULT = "rule:default"
SERVICE = "rule:service_api"

_MEMBER = "role:member and project_id:%(project_id)s"
_READER = "role:reader and project_id:%(project_id)s"
_IMAGE_MEMBER = "project_id:%(member_id)s"
_VISIBLE_TO_ALL = (
    "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s"
)

ADMIN_OR_MEMBER = f"{ADMIN} or ({_MEMBER})"
ADMIN_OR_READER = f"{ADMIN} or ({_READER})"
ADMIN_OR_MEMBER_CREATE = f"{ADMIN} or ({_MEMBER} and project_id:%(owner)s)"
ADMIN_OR_READER_GET_IMAGE = (
    f"{ADMIN} or (role:reader and (project_id:%(project_id)s or {_IMAGE_MEMBER} "
    f"or {_VISIBLE_TO_ALL}))"
)
ADMIN_OR_MEMBER_DOWNLOAD = (
    f"{ADMIN} or (role:member and (project_id:%(project_id)s or {_IMAGE_MEMBER} "
    f"or {_VISIBLE_TO_ALL}))"
)
ADMIN_OR_SHARED_MEMBER = f"{ADMIN} or (role:member and {_IMAGE_MEMBER})"
ADMIN_OR_READER_OR_SHARED_MEMBER = (
    f"{ADMIN} or role:reader and (project_id:%(project_id)s or {_IMAGE_MEMBER})"
)
SERVICE_OR_MEMBER_CREATE = f"{SERVICE} or ({_MEMBER} and project_id:%(owner)s)"
ADMIN_OR_SERVICE = f"{ADMIN} or {SERVICE}"

_PROJECT = ["project"]


def _rule(
    name: str, check_str: str, description: str, *operations: tuple[str, str]
) -> policy.DocumentedRuleDefault:
    """A project-scoped documented rule; ``operations`` are ``(method, path)`` pairs."""
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check_str,
        description=description,
        operations=[{"method": method, "path": path} for method, path in operations],
        scope_types=_PROJECT,
    )


_IMAGES = "/v2/images"
_IMAGE = "/v2/images/{image_id}"
_FILE = "/v2/images/{image_id}/file"
_MEMBERS = "/v2/images/{image_id}/members"
_MEMBER_PATH = "/v2/images/{image_id}/members/{member_id}"
_LOCATIONS = "/v2/images/{image_id}/locations"

base_rules = [
    policy.RuleDefault(
        name="default",
        check_str="",
        description="Fallback for any rule a policy file or the code does not define.",
    ),
    policy.RuleDefault(
        name="context_is_admin",
        check_str="role:admin",
        description="Who is an administrator (the request context's is_admin flag).",
    ),
    policy.RuleDefault(
        name="service_api",
        check_str="role:service or role:admin",
        description="Callers that are other OpenStack services.",
    ),
]

image_rules = [
    _rule("add_image", ADMIN_OR_MEMBER_CREATE, "Create an image.", ("POST", _IMAGES)),
    _rule("delete_image", ADMIN_OR_MEMBER, "Delete an image.", ("DELETE", _IMAGE)),
    _rule("get_image", ADMIN_OR_READER_GET_IMAGE, "Show one image.", ("GET", _IMAGE)),
    _rule("get_images", ADMIN_OR_READER, "List images.", ("GET", _IMAGES)),
    _rule("modify_image", ADMIN_OR_MEMBER, "Update an image.", ("PATCH", _IMAGE)),
    _rule("publicize_image", ADMIN, "Make an image public.", ("PATCH", _IMAGE)),
    _rule("communitize_image", ADMIN_OR_MEMBER, "Make an image community-visible.",
          ("PATCH", _IMAGE)),
    _rule("download_image", ADMIN_OR_MEMBER_DOWNLOAD, "Download an image's data.",
          ("GET", _FILE)),
    _rule("download_from_store", ADMIN_OR_MEMBER_DOWNLOAD,
          "Download an image's data from a chosen store backend.", ("GET", _FILE)),
    _rule("upload_image", ADMIN_OR_MEMBER, "Upload an image's data.", ("PUT", _FILE)),
    _rule("delete_image_location", ADMIN, "Remove a location of an image.", ("PATCH", _IMAGE)),
    _rule("get_image_location", ADMIN_OR_READER, "Show the locations of an image.",
          ("GET", _IMAGE)),
    _rule("set_image_location", ADMIN_OR_MEMBER, "Add or replace a location of an image.",
          ("PATCH", _IMAGE)),
    _rule("add_image_location", SERVICE_OR_MEMBER_CREATE,
          "Add a location to an image through the locations API.", ("POST", _LOCATIONS)),
    _rule("fetch_image_location", SERVICE, "List an image's locations through the locations "
          "API.", ("GET", _LOCATIONS)),
    _rule("add_member", ADMIN_OR_MEMBER, "Share an image with a project.", ("POST", _MEMBERS)),
    _rule("delete_member", ADMIN_OR_MEMBER, "Stop sharing an image with a project.",
          ("DELETE", _MEMBER_PATH)),
    _rule("get_member", ADMIN_OR_READER_OR_SHARED_MEMBER, "Show one member of an image.",
          ("GET", _MEMBER_PATH)),
    _rule("get_members", ADMIN_OR_READER_OR_SHARED_MEMBER, "List the members of an image.",
          ("GET", _MEMBERS)),
    _rule("modify_member", ADMIN_OR_SHARED_MEMBER, "Accept or reject a shared image.",
          ("PUT", _MEMBER_PATH)),
    _rule("manage_image_cache", ADMIN, "Manage the image cache.", ("PUT", "/v2/cache/{image_id}")),
    _rule("deactivate", ADMIN_OR_MEMBER, "Deactivate an image.",
          ("POST", "/v2/images/{image_id}/actions/deactivate")),
    _rule("reactivate", ADMIN_OR_MEMBER, "Reactivate an image.",
          ("POST", "/v2/images/{image_id}/actions/reactivate")),
    _rule("copy_image", ADMIN, "Copy an image's data to other store backends.",
          ("POST", "/v2/images/{image_id}/import")),
    _rule("list_cached_nodes", ADMIN, "List the nodes caching an image.",
          ("GET", "/v2/cache/nodes/{image_id}")),
]

task_rules = [
    _rule("get_task", DEFAULT, "Show a task.", ("GET", "/v2/tasks/{task_id}")),
    _rule("get_tasks", DEFAULT, "List tasks.", ("GET", "/v2/tasks")),
    _rule("add_task", DEFAULT, "Create a task.", ("POST", "/v2/tasks")),
    _rule("modify_task", DEFAULT, "Unused; kept for policy-file compatibility.",
          ("DELETE", "/v2/tasks/{task_id}")),
    _rule("tasks_api_access", ADMIN, "Use the tasks API at all.",
          ("GET", "/v2/tasks/{task_id}"), ("GET", "/v2/tasks"), ("POST", "/v2/tasks"),
          ("DELETE", "/v2/tasks/{task_id}")),
]

cache_rules = [
    _rule("cache_image", ADMIN, "Queue an image for caching.", ("PUT", "/v2/cache/{image_id}")),
    _rule("cache_list", ADMIN, "List cached and queued images.", ("GET", "/v2/cache")),
    _rule("cache_delete", ADMIN, "Remove images from the cache.", ("DELETE", "/v2/cache"),
          ("DELETE", "/v2/cache/{image_id}")),
    _rule("cache_clean", ADMIN, "Clean the cache of invalid entries.",
          ("POST", "/v2/cache/clean")),
    _rule("cache_prune", ADMIN, "Shrink the cache to its size limit.",
          ("POST", "/v2/cache/prune")),
]

discovery_rules = [
    _rule("stores_info_detail", ADMIN_OR_SERVICE, "Show store backends with their details.",
          ("GET", "/v2/info/stores/detail")),
]


METADEF_ADMIN = "rule:metadef_admin"
ADMIN_OR_READER_GET_NAMESPACE = (
    f"{ADMIN} or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
)
_NS_PATH = "/v2/metadefs/namespaces/{namespace_name}"


def _md(name: str, check_str: str, description: str, method: str, path: str
        ) -> policy.DocumentedRuleDefault:
    return _rule(name, check_str, description, (method, path))


metadef_rules = [
    policy.RuleDefault(name="metadef_default", check_str="",
                       description="Unused by default; kept for policy-file compatibility."),
    policy.RuleDefault(name="metadef_admin", check_str=ADMIN,
                       description="Who may change metadata definitions."),
    _md("get_metadef_namespace", ADMIN_OR_READER_GET_NAMESPACE, "Show a namespace.",
        "GET", _NS_PATH),
    _md("get_metadef_namespaces", ADMIN_OR_READER, "List namespaces.",
        "GET", "/v2/metadefs/namespaces"),
    _md("modify_metadef_namespace", METADEF_ADMIN, "Update a namespace.", "PUT", _NS_PATH),
    _md("add_metadef_namespace", METADEF_ADMIN, "Create a namespace.",
        "POST", "/v2/metadefs/namespaces"),
    _md("delete_metadef_namespace", METADEF_ADMIN, "Delete a namespace.", "DELETE", _NS_PATH),
    _md("get_metadef_object", ADMIN_OR_READER_GET_NAMESPACE, "Show an object.",
        "GET", _NS_PATH + "/objects/{object_name}"),
    _md("get_metadef_objects", ADMIN_OR_READER_GET_NAMESPACE, "List a namespace's objects.",
        "GET", _NS_PATH + "/objects"),
    _md("modify_metadef_object", METADEF_ADMIN, "Update an object.",
        "PUT", _NS_PATH + "/objects/{object_name}"),
    _md("add_metadef_object", METADEF_ADMIN, "Create an object.",
        "POST", _NS_PATH + "/objects"),
    _md("delete_metadef_object", METADEF_ADMIN, "Delete an object.",
        "DELETE", _NS_PATH + "/objects/{object_name}"),
    _md("list_metadef_resource_types", ADMIN_OR_READER_GET_NAMESPACE, "List resource types.",
        "GET", "/v2/metadefs/resource_types"),
    _md("get_metadef_resource_type", ADMIN_OR_READER_GET_NAMESPACE,
        "List a namespace's resource-type associations.",
        "GET", _NS_PATH + "/resource_types"),
    _md("add_metadef_resource_type_association", METADEF_ADMIN,
        "Associate a namespace with a resource type.", "POST", _NS_PATH + "/resource_types"),
    _md("remove_metadef_resource_type_association", METADEF_ADMIN,
        "Remove a resource-type association.", "DELETE", _NS_PATH + "/resource_types/{name}"),
    _md("get_metadef_property", ADMIN_OR_READER_GET_NAMESPACE, "Show a property definition.",
        "GET", _NS_PATH + "/properties/{property_name}"),
    _md("get_metadef_properties", ADMIN_OR_READER_GET_NAMESPACE,
        "List a namespace's property definitions.", "GET", _NS_PATH + "/properties"),
    _md("modify_metadef_property", METADEF_ADMIN, "Update a property definition.",
        "PUT", _NS_PATH + "/properties/{property_name}"),
    _md("add_metadef_property", METADEF_ADMIN, "Create a property definition.",
        "POST", _NS_PATH + "/properties"),
    _md("remove_metadef_property", METADEF_ADMIN, "Delete a property definition.",
        "DELETE", _NS_PATH + "/properties/{property_name}"),
    _md("get_metadef_tag", ADMIN_OR_READER_GET_NAMESPACE, "Show a tag.",
        "GET", _NS_PATH + "/tags/{tag_name}"),
    _md("get_metadef_tags", ADMIN_OR_READER_GET_NAMESPACE, "List a namespace's tags.",
        "GET", _NS_PATH + "/tags"),
    _md("modify_metadef_tag", METADEF_ADMIN, "Rename a tag.",
        "PUT", _NS_PATH + "/tags/{tag_name}"),
    _md("add_metadef_tag", METADEF_ADMIN, "Create a tag.",
        "POST", _NS_PATH + "/tags/{tag_name}"),
    _md("add_metadef_tags", METADEF_ADMIN, "Create tags in bulk.", "POST", _NS_PATH + "/tags"),
    _md("delete_metadef_tag", METADEF_ADMIN, "Delete a tag.",
        "DELETE", _NS_PATH + "/tags/{tag_name}"),
    _md("delete_metadef_tags", METADEF_ADMIN, "Delete every tag of a namespace.",
        "DELETE", _NS_PATH + "/tags"),
]


def list_rules() -> list[policy.RuleDefault]:
    """All default rules (the ``oslo.policy.policies`` entry point)."""
    return [*base_rules, *image_rules, *task_rules, *cache_rules, *discovery_rules,
            *metadef_rules]
