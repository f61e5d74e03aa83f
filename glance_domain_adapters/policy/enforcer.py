"""oslo.policy enforcer and its adapter to the domain's PolicyEnforcer port.

:func:`get_enforcer` builds an ``oslo_policy.policy.Enforcer`` with our default rules over a
``ConfigOpts`` (``[oslo_policy] policy_file`` etc.), so an operator's Glance ``policy.yaml``
overrides the defaults exactly as in Glance. :class:`OsloPolicyEnforcer` implements
``glance_domain.ports.PolicyEnforcer``: it turns a domain ``RequestContext`` into oslo.policy
credentials and raises ``glance_domain.errors.Forbidden`` when a rule denies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from glance_domain.context import RequestContext
from glance_domain.errors import Forbidden
from glance_domain_adapters.policy.rules import list_rules

LOG = logging.getLogger(__name__)


def get_enforcer(conf: cfg.ConfigOpts | None = None) -> policy.Enforcer:
    """An oslo.policy Enforcer with glance-domain's default rules registered.

    ``conf`` is the service configuration (its ``[oslo_policy]`` group is registered here).
    Called without arguments (the ``oslo.policy.enforcer`` entry point used by
    ``oslopolicy-policy-generator`` and ``oslopolicy-checker``), it uses a fresh configuration
    parsed from the command line's ``--config-file`` options, if any.
    """
    if conf is None:
        from glance_domain_adapters import config

        conf = config.new_conf()
        conf([], project=config.PROJECT, default_config_files=[], default_config_dirs=[])
    enforcer = policy.Enforcer(conf, use_conf=True, overwrite=False)
    # Defaults changed wholesale with secure RBAC; a warning per rule only fills the logs.
    enforcer.suppress_default_change_warnings = True
    enforcer.register_defaults(list_rules())
    return enforcer


def credentials(context: RequestContext) -> dict[str, Any]:
    """oslo.policy credentials for a domain context (the keys oslo.context would produce).

    A token is scoped to a project or to a domain, never both: with a project, ``domain_id``
    (which may then be the project's or the user's domain) does not make the call
    domain-scoped for oslo.policy's scope check.
    """
    return {
        "user_id": context.user_id,
        "user": context.user_id,
        "project_id": context.project_id,
        "tenant": context.project_id,
        "domain_id": None if context.project_id else context.domain_id,
        "roles": list(context.roles),
        "service_roles": list(context.service_roles),
        "is_admin": context.is_admin,
        "is_admin_project": True,
        "system_scope": None,
        "read_only": context.read_only,
    }


class OsloPolicyEnforcer:
    """The domain's ``PolicyEnforcer`` port implemented with oslo.policy.

    Rules the code does not register and the policy file does not define fall back to the
    ``default`` rule (oslo.policy's standard behaviour). A token of the wrong scope (e.g.
    domain-scoped) is denied like a failed check.
    """

    def __init__(self, enforcer: policy.Enforcer) -> None:
        self._enforcer = enforcer

    @property
    def enforcer(self) -> policy.Enforcer:
        """The wrapped oslo.policy enforcer."""
        return self._enforcer

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        """True when ``context`` may do ``rule`` on ``target``."""
        try:
            return bool(self._enforcer.enforce(rule, dict(target), credentials(context)))
        except policy.InvalidScope:
            return False

    def enforce(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> None:
        """Raise ``Forbidden`` unless ``context`` may do ``rule`` on ``target``."""
        if not self.check(context, rule, target):
            LOG.debug("policy %s denied for user %s project %s", rule, context.user_id,
                      context.project_id)
            raise Forbidden(f"You are not authorized to complete {rule} action.")

    def is_admin(self, context: RequestContext) -> bool:
        """Whether ``context`` is an administrator per the ``context_is_admin`` rule."""
        creds = credentials(context)
        try:
            return bool(self._enforcer.enforce("context_is_admin", creds, creds))
        except policy.InvalidScope:
            return False


def make_policy(conf: cfg.ConfigOpts) -> OsloPolicyEnforcer:
    """The policy port for ``conf``: our defaults plus the operator's policy file."""
    return OsloPolicyEnforcer(get_enforcer(conf))
