"""Property protections: who may create, read, update and delete which extra image properties.

Glance's ``property_protection_file``, as plain Python. The rules are an ordered list of
sections; a section's name is a regular expression over property names and it gives, for each of
the four operations, who may do it:

- ``@``: everybody; ``!``: nobody; an empty value: nobody;
- ``roles`` format: a comma-separated list of roles (compared lower-cased; the caller's service
  roles count too);
- ``policies`` format: the name of one policy rule; the policy enforcer decides with the rule
  ``<section>:<operation>``, which the composition root defines as ``rule:<name>``.

The first section whose expression is found anywhere in a property's name (``re.search``)
decides; a name no section matches is denied every operation. Properties of Glance's own
``os_glance`` namespace are always allowed: a section ``os_glance.*`` allowing everything is put
first, and sections of the file whose name starts with ``os_glance`` are dropped.

Core attributes (``name``, ``visibility``, ``min_disk``...) are never subject to these rules;
the layer that applies them (:mod:`glance_domain.layers.protection`) only looks at extra
properties.

    >>> rules = PropertyProtections.from_sections({
    ...     "^x_billing_": {"create": "admin", "read": "@", "update": "admin", "delete": "!"},
    ...     ".*": {"create": "@", "read": "@", "update": "@", "delete": "@"},
    ... })
    >>> member = RequestContext(project_id="p1", roles=("member",))
    >>> rules.allows(member, "x_billing_code", "read", policy=None)
    True
    >>> rules.allows(member, "x_billing_code", "update", policy=None)
    False
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from glance_domain.context import RequestContext
from glance_domain.ports import PolicyEnforcer

CREATE, READ, UPDATE, DELETE = "create", "read", "update", "delete"
OPERATIONS = (CREATE, READ, UPDATE, DELETE)

ROLES, POLICIES = "roles", "policies"
RULE_FORMATS = (ROLES, POLICIES)

EVERYBODY, NOBODY = "@", "!"

#: The section allowing everything on Glance's internal properties, always first.
INTERNAL_SECTION = "os_glance.*"
INTERNAL_PREFIX = "os_glance"


class InvalidPropertyRules(ValueError):
    """The rules cannot be used (bad expression, missing operation, ``@`` with ``!``...)."""


@attrs.frozen
class Permission:
    """Who may do one operation: everybody, some roles, the holders of a policy, or nobody."""

    everybody: bool = False
    roles: frozenset[str] = frozenset()
    #: the policy rule to check (``<section>:<operation>``), policies format only
    policy: str | None = None

    def allows(self, roles: frozenset[str], context: RequestContext,
               enforcer: PolicyEnforcer | None) -> bool:
        """Whether a caller with (lower-cased) ``roles`` passes."""
        if self.everybody:
            return True
        if self.policy is not None:
            return enforcer is not None and enforcer.check(context, self.policy, {})
        return not self.roles.isdisjoint(roles)


@attrs.frozen
class PropertyRule:
    """One section: the expression and the permission of each operation."""

    section: str
    pattern: re.Pattern[str]
    permissions: Mapping[str, Permission]
    #: policies format: ``{policy rule name: policy name}`` the section refers to
    policies: Mapping[str, str] = attrs.field(factory=lambda: MappingProxyType({}))


SectionValues = Mapping[str, "str | None"]


@attrs.frozen
class PropertyProtections:
    """Parsed rules; :meth:`allows` answers "may this caller do this to that property"."""

    rule_format: str
    rules: tuple[PropertyRule, ...]

    @classmethod
    def from_sections(
        cls,
        sections: Mapping[str, SectionValues] | Iterable[tuple[str, SectionValues]],
        rule_format: str = ROLES,
    ) -> PropertyProtections:
        """Rules from ``{section: {operation: value}}`` in file order (what an INI file
        holds). Raises :class:`InvalidPropertyRules` naming the section at fault."""
        if rule_format not in RULE_FORMATS:
            raise InvalidPropertyRules(
                f"invalid property protection rule format {rule_format!r}: "
                f"use {' or '.join(repr(f) for f in RULE_FORMATS)}")
        items = list(sections.items() if isinstance(sections, Mapping) else sections)
        internal = {op: EVERYBODY for op in OPERATIONS}
        rules = [_rule(INTERNAL_SECTION, internal, rule_format)]
        rules.extend(
            _rule(section, values, rule_format)
            for section, values in items
            if not section.startswith(INTERNAL_PREFIX)
        )
        return cls(rule_format=rule_format, rules=tuple(rules))

    def rule_for(self, name: str) -> PropertyRule | None:
        """The section that decides for property ``name`` (None: no section matches)."""
        for rule in self.rules:
            if rule.pattern.search(name):
                return rule
        return None

    def allows(self, context: RequestContext, name: str, operation: str,
               policy: PolicyEnforcer | None) -> bool:
        """Whether ``context`` may do ``operation`` (create, read, update, delete) to the
        extra property ``name``; ``policy`` answers for the policies format."""
        rule = self.rule_for(name)
        if rule is None or operation not in rule.permissions:
            return False
        roles = frozenset(r.lower() for r in (*context.roles, *context.service_roles))
        return rule.permissions[operation].allows(roles, context, policy)

    def policy_rules(self) -> dict[str, str]:
        """Policies format: ``{"<section>:<operation>": "rule:<policy>"}``, the rules the
        policy enforcer must know (empty for the roles format)."""
        return {name: f"rule:{value}" for rule in self.rules
                for name, value in rule.policies.items()}


def _rule(section: str, values: SectionValues, rule_format: str) -> PropertyRule:
    try:
        pattern = re.compile(section)
    except re.error as exc:
        raise InvalidPropertyRules(
            f"property protection section [{section}] is not a valid regular expression: "
            f"{exc}") from None
    permissions: dict[str, Permission] = {}
    policies: dict[str, str] = {}
    for operation in OPERATIONS:
        if operation not in values or values[operation] is None:
            raise InvalidPropertyRules(
                f"property protection section [{section}] has no '{operation}' rule (each "
                f"section needs {', '.join(OPERATIONS)})")
        value = str(values[operation]).strip()
        if rule_format == POLICIES:
            permissions[operation] = _policy_permission(section, operation, value, policies)
        else:
            permissions[operation] = _roles_permission(section, operation, value)
    return PropertyRule(section=section, pattern=pattern,
                        permissions=MappingProxyType(permissions),
                        policies=MappingProxyType(policies))


def _roles_permission(section: str, operation: str, value: str) -> Permission:
    names = [part.strip() for part in value.split(",")]
    if EVERYBODY in names and NOBODY in names:
        raise InvalidPropertyRules(
            f"property protection section [{section}] {operation} = {value}: '@' and '!' "
            "cannot be combined")
    if NOBODY in names:
        return Permission()
    if EVERYBODY in names:
        return Permission(everybody=True)
    return Permission(roles=frozenset(n.lower() for n in names if n))


def _policy_permission(section: str, operation: str, value: str,
                       policies: dict[str, str]) -> Permission:
    if "," in value:
        raise InvalidPropertyRules(
            f"property protection section [{section}] {operation} = {value}: one policy per "
            "operation (combine several in the policy file)")
    if not value or value == NOBODY:
        return Permission()
    if value == EVERYBODY:
        return Permission(everybody=True)
    name = f"{section}:{operation}"
    policies[name] = value
    return Permission(policy=name)
