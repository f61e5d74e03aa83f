"""Property protections in the domain: the rules (glance_domain.protections) and the layer that
applies them to images (glance_domain.layers.protection), over an in-memory gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from glance_domain import (
    Change,
    DefaultPolicy,
    DomainSettings,
    Gateway,
    ImageQuery,
    MemoryImageRepository,
    MemoryStoreRegistry,
    RecordingNotifier,
    RequestContext,
)
from glance_domain.errors import Conflict, PolicyDenied, ProtectedProperty, ReservedAttribute
from glance_domain.layers.protection import PropertyProtectionLayer
from glance_domain.protections import InvalidPropertyRules, PropertyProtections


def _all(value: str) -> dict[str, str]:
    return {op: value for op in ("create", "read", "update", "delete")}


RULES = {
    "^x_owner_": _all("admin,member"),
    "x_create_only": {"create": "member", "read": "admin", "update": "admin", "delete": "admin"},
    "x_read_only": {"create": "admin", "read": "@", "update": "admin", "delete": "admin"},
    "x_update": {"create": "admin", "read": "admin,Member", "update": "ADMIN,member",
                 "delete": "admin"},
    "x_delete": {"create": "admin", "read": "admin,member", "update": "admin",
                 "delete": "admin,member"},
    "^x_all": _all("@"),
    "^x_none": _all("!"),
    "x_empty": {"create": "admin", "read": "", "update": "", "delete": ""},
    "^secret_": _all("admin"),
}

ADMIN = RequestContext(project_id="p1", roles=("admin", "member", "reader"), is_admin=True)
MEMBER = RequestContext(project_id="p1", roles=("member", "reader"))
STRANGER = RequestContext(project_id="p1", roles=("reader", "observer"))


class FakePolicy(DefaultPolicy):
    """Glance's default rules, plus property rules decided by a table; records what was asked."""

    def __init__(self, allowed: Mapping[str, set[str]]) -> None:
        super().__init__()
        self.allowed = allowed
        self.asked: list[tuple[str, Mapping[str, Any]]] = []

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        if ":" in rule:
            self.asked.append((rule, target))
            return bool(self.allowed.get(rule, set()) & set(context.roles))
        return super().check(context, rule, target)


def gateway(rules: PropertyProtections | None, policy: DefaultPolicy | None = None) -> Gateway:
    return Gateway(
        repository=MemoryImageRepository(),
        stores=MemoryStoreRegistry(("default",), hashing_algorithm="sha512"),
        policy=policy or DefaultPolicy(),
        notifier=RecordingNotifier(),
        settings=DomainSettings(),
        property_protections=rules,
    )


@pytest.fixture
def rules() -> PropertyProtections:
    return PropertyProtections.from_sections(RULES)


@pytest.fixture
def gw(rules: PropertyProtections) -> Gateway:
    return gateway(rules)


def _stored(gw: Gateway, image_id: str) -> dict[str, str]:
    return dict(gw.repository.get(image_id).extra_properties)


# -- the rules -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("context", "name", "operation", "allowed"),
    [
        (MEMBER, "x_owner_foo", "create", True),
        (STRANGER, "x_owner_foo", "read", False),
        (MEMBER, "x_update", "read", True),  # rule roles compared lower-cased
        (MEMBER, "x_update", "update", True),
        (MEMBER, "x_update", "create", False),
        (STRANGER, "x_all_yours", "delete", True),  # '@'
        (ADMIN, "x_none_at_all", "read", False),  # '!'
        (ADMIN, "x_empty", "read", False),  # empty: nobody
        (ADMIN, "x_empty", "create", True),
        (ADMIN, "unmatched", "read", False),  # no section: denied
        (RequestContext(roles=("MEMBER",)), "x_owner_a", "read", True),  # caller lower-cased
        (RequestContext(roles=("reader",), service_roles=("member",)), "x_owner_a", "read",
         True),  # service roles count
        (ADMIN, "x_owner_a", "list", False),  # not an operation
    ],
)
def test_roles_format_decisions(rules: PropertyProtections, context: RequestContext, name: str,
                                operation: str, allowed: bool) -> None:
    assert rules.allows(context, name, operation, policy=None) is allowed


def test_first_section_found_anywhere_in_the_name_decides() -> None:
    rules = PropertyProtections.from_sections([
        ("foo", _all("!")),  # re.search: also inside "my_foo_bar"
        ("^my_", _all("@")),
    ])
    assert not rules.allows(MEMBER, "my_foo_bar", "read", policy=None)
    assert rules.allows(MEMBER, "my_bar", "read", policy=None)
    assert rules.rule_for("my_foo_bar").section == "foo"  # type: ignore[union-attr]


def test_glance_internal_properties_are_always_allowed() -> None:
    rules = PropertyProtections.from_sections([
        (".*", _all("!")),
        ("os_glance_import_task", _all("!")),  # a file's os_glance sections are dropped
    ])
    assert rules.rules[0].section == "os_glance.*"
    assert [r.section for r in rules.rules] == ["os_glance.*", ".*"]
    for operation in ("create", "read", "update", "delete"):
        assert rules.allows(MEMBER, "os_glance_import_task", operation, policy=None)
    assert not rules.allows(ADMIN, "anything_else", "read", policy=None)


@pytest.mark.parametrize(
    ("sections", "rule_format", "message"),
    [
        ({"x_[": _all("@")}, "roles", r"\[x_\[\] is not a valid regular expression"),
        ({"x_a": {"create": "@", "read": "@", "update": "@"}}, "roles",
         r"\[x_a\] has no 'delete' rule"),
        ({"x_a": {**_all("admin"), "read": "@,!"}}, "roles", "'@' and '!' cannot be combined"),
        ({"x_a": {**_all("p1"), "update": "p1,p2"}}, "policies", "one policy per operation"),
        ({"x_a": _all("admin")}, "acls", "invalid property protection rule format 'acls'"),
    ],
)
def test_invalid_rules_are_refused_with_the_section(
    sections: dict[str, dict[str, str]], rule_format: str, message: str
) -> None:
    with pytest.raises(InvalidPropertyRules, match=message):
        PropertyProtections.from_sections(sections, rule_format)


def test_policies_format_asks_the_policy_with_section_and_operation() -> None:
    rules = PropertyProtections.from_sections({
        "^x_billing_": {"create": "billing_creator", "read": "@", "update": "!", "delete": ""},
    }, "policies")
    assert rules.policy_rules() == {"^x_billing_:create": "rule:billing_creator"}
    policy = FakePolicy({"^x_billing_:create": {"billing"}})
    billing = RequestContext(project_id="p1", roles=("member", "billing"))
    assert rules.allows(billing, "x_billing_code", "create", policy)
    assert not rules.allows(MEMBER, "x_billing_code", "create", policy)
    assert policy.asked == [("^x_billing_:create", {}), ("^x_billing_:create", {})]
    # '@', '!' and empty are decided without the policy
    assert rules.allows(MEMBER, "x_billing_code", "read", policy)
    assert not rules.allows(billing, "x_billing_code", "update", policy)
    assert not rules.allows(billing, "x_billing_code", "delete", policy)
    assert len(policy.asked) == 2


# -- the layer, through the gateway ---------------------------------------------------------

def test_no_rules_no_layer_and_rules_put_it_over_notification(rules: PropertyProtections) -> None:
    def names(gw: Gateway) -> list[str]:
        layer: Any = gw.stack(MEMBER)
        found = []
        while layer is not None:
            found.append(type(layer).__name__)
            layer = getattr(layer, "inner", None)
        return found

    assert "PropertyProtectionLayer" not in names(gateway(None))
    assert names(gateway(rules))[:4] == [
        "AuthorizationLayer", "PolicyLayer", "PropertyProtectionLayer", "NotificationLayer"]
    assert isinstance(gateway(rules).stack(MEMBER).inner.inner, PropertyProtectionLayer)


def test_create_needs_create_on_every_extra_property(gw: Gateway) -> None:
    member = gw.service(MEMBER)
    with pytest.raises(ProtectedProperty, match=r"^Attribute 'unmatched' is reserved\.$") as exc:
        member.create_image(name="a", x_owner_a="1", unmatched="2")
    assert isinstance(exc.value, ReservedAttribute)  # Glance's 403
    with pytest.raises(ProtectedProperty, match="x_none_x"):
        gw.service(ADMIN).create_image(name="a", x_none_x="1")
    assert gw.service(ADMIN).list_images(ImageQuery()) == []  # nothing stored


def test_core_attributes_are_never_protected() -> None:
    # every extra property is refused to everyone; core attributes still work
    gw = gateway(PropertyProtections.from_sections({".*": _all("!")}))
    image = gw.service(MEMBER).create_image(name="n", min_disk=1, visibility="private",
                                            protected=False, container_format="bare",
                                            disk_format="raw", tags=["t"])
    changed = gw.service(MEMBER).update_image(image.id, [
        Change("replace", ("name",), "m"), Change("replace", ("min_ram",), 5)])
    assert (changed.name, changed.min_ram) == ("m", 5)


def test_unreadable_properties_are_invisible_in_every_view(gw: Gateway) -> None:
    image = gw.service(ADMIN).create_image(name="a", x_owner_a="1", secret_s="s",
                                           x_read_only="r")
    expected = {"x_owner_a": "1", "x_read_only": "r"}
    member = gw.service(MEMBER)
    assert dict(member.get_image(image.id).extra_properties) == expected
    assert [dict(i.extra_properties) for i in member.list_images(ImageQuery())] == [expected]
    patched = member.update_image(image.id, [Change("replace", ("name",), "b")])
    assert dict(patched.extra_properties) == expected
    assert dict(member.update_image(image.id, []).extra_properties) == expected
    assert dict(gw.service(STRANGER).get_image(image.id).extra_properties) == {
        "x_read_only": "r"}
    assert _stored(gw, image.id) == {**expected, "secret_s": "s"}


def test_created_answer_hides_what_the_creator_may_not_read_but_keeps_it(gw: Gateway) -> None:
    created = gw.service(MEMBER).create_image(name="a", x_create_only="c", x_owner_a="1")
    assert dict(created.extra_properties) == {"x_owner_a": "1"}
    assert dict(gw.service(ADMIN).get_image(created.id).extra_properties) == {
        "x_create_only": "c", "x_owner_a": "1"}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (Change("replace", ("secret_s",), "z"), Conflict),  # unreadable: does not exist
        (Change("remove", ("secret_s",)), Conflict),
        (Change("add", ("secret_s",), "z"), ProtectedProperty),  # a create, not allowed
        (Change("add", ("x_read_only",), "z"), ProtectedProperty),  # readable: an update
        (Change("replace", ("x_read_only",), "z"), ProtectedProperty),
        (Change("remove", ("x_read_only",)), ProtectedProperty),
        (Change("add", ("x_update",), "z"), None),  # update allowed
        (Change("remove", ("x_delete",)), None),
        (Change("add", ("x_owner_new",), "z"), None),
        (Change("add", ("unmatched",), "z"), ProtectedProperty),
    ],
)
def test_patch_operations(gw: Gateway, change: Change, error: type[Exception] | None) -> None:
    image = gw.service(ADMIN).create_image(
        name="a", secret_s="s", x_read_only="r", x_update="u", x_delete="d")
    member = gw.service(MEMBER)
    if error is None:
        member.update_image(image.id, [change])
        stored = _stored(gw, image.id)
        assert stored.get(change.path[0]) == change.value
        assert stored["secret_s"] == "s"
    else:
        with pytest.raises(error):
            member.update_image(image.id, [change])
        assert _stored(gw, image.id) == {
            "secret_s": "s", "x_read_only": "r", "x_update": "u", "x_delete": "d"}


def test_adding_an_unreadable_property_is_a_create(gw: Gateway) -> None:
    image = gw.service(ADMIN).create_image(name="a")
    member = gw.service(MEMBER)  # may create x_create_only, not read or update it
    answer = member.update_image(image.id, [Change("add", ("x_create_only",), "new")])
    assert "x_create_only" not in answer.extra_properties
    assert _stored(gw, image.id) == {"x_create_only": "new"}


def test_an_unreadable_property_the_image_holds_is_not_created_over(gw: Gateway) -> None:
    """Glance lets the create overwrite a value the caller cannot read; we refuse it."""
    image = gw.service(ADMIN).create_image(name="a", x_create_only="old")
    member = gw.service(MEMBER)
    with pytest.raises(ProtectedProperty):
        member.update_image(image.id, [Change("add", ("x_create_only",), "new")])
    assert _stored(gw, image.id) == {"x_create_only": "old"}
    # added in this patch (it was not there before), still unreadable: setting it again in
    # the same patch is a create again, and allowed
    fresh = gw.service(ADMIN).create_image(name="b")
    member.update_image(fresh.id, [Change("add", ("x_create_only",), "a"),
                                   Change("replace", ("x_create_only",), "b")])
    assert _stored(gw, fresh.id) == {"x_create_only": "b"}


def test_patch_operations_are_checked_in_order(gw: Gateway) -> None:
    image = gw.service(ADMIN).create_image(name="a", x_read_only="r")
    member = gw.service(MEMBER)
    with pytest.raises(ProtectedProperty):
        member.update_image(image.id, [Change("add", ("x_read_only",), "z"),
                                       Change("replace", ("missing",), "z")])
    with pytest.raises(Conflict):
        member.update_image(image.id, [Change("replace", ("missing",), "z"),
                                       Change("add", ("x_read_only",), "z")])


def test_saves_keep_properties_the_caller_cannot_read(gw: Gateway) -> None:
    admin, member = gw.service(ADMIN), gw.service(MEMBER)
    image = admin.create_image(name="a", container_format="bare", disk_format="raw",
                               secret_s="s", x_owner_a="1")
    member.update_image(image.id, [Change("replace", ("x_owner_a",), "2")])
    member.add_tag(image.id, "t")
    uploaded = member.upload_data(image.id, [b"data"])
    assert dict(uploaded.extra_properties) == {"x_owner_a": "2"}
    assert _stored(gw, image.id) == {"secret_s": "s", "x_owner_a": "2"}
    assert gw.repository.get(image.id).tags == {"t"}


def test_policy_denials_come_before_property_checks_on_create(gw: Gateway) -> None:
    # a reader may not add images at all: the add_image rule answers, not the protections
    with pytest.raises(PolicyDenied, match="add_image"):
        gw.service(STRANGER).create_image(name="a", unmatched="1")


def test_policies_format_through_the_gateway() -> None:
    rules = PropertyProtections.from_sections({
        "^x_billing_": {"create": "billing_creator", "read": "billing_reader", "update": "!",
                        "delete": "billing_creator"},
    }, "policies")
    policy = FakePolicy({"^x_billing_:create": {"billing"},
                         "^x_billing_:read": {"billing", "auditor"},
                         "^x_billing_:delete": {"billing"}})
    gw = gateway(rules, policy)
    billing = RequestContext(project_id="p1", roles=("member", "reader", "billing"))
    image = gw.service(billing).create_image(name="a", x_billing_code="42")
    assert image.extra_properties == {"x_billing_code": "42"}
    assert "x_billing_code" not in gw.service(MEMBER).get_image(image.id).extra_properties
    with pytest.raises(ProtectedProperty):
        gw.service(MEMBER).create_image(name="b", x_billing_code="1")
    with pytest.raises(ProtectedProperty):
        gw.service(billing).update_image(image.id, [Change("replace", ("x_billing_code",), "1")])
    gw.service(billing).update_image(image.id, [Change("remove", ("x_billing_code",))])
    assert _stored(gw, image.id) == {}


def test_the_policies_format_needs_a_policy_that_knows_its_rules() -> None:
    """DefaultPolicy allows every rule it does not know: a gateway with the policies format
    and such a policy would open every protected operation, so it is refused."""
    rules = PropertyProtections.from_sections(
        {"^x_b": {"create": "billing", "read": "@", "update": "@", "delete": "@"}}, "policies")
    parts: dict[str, Any] = dict(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(),
        notifier=RecordingNotifier(), settings=DomainSettings(), property_protections=rules)
    with pytest.raises(ValueError, match="'\\^x_b:create'"):
        Gateway(policy=DefaultPolicy(), **parts)
    Gateway(policy=DefaultPolicy(overrides={"^x_b:create": lambda creds, target: False}),
            **parts)
