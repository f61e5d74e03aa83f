"""oslo.policy enforcer and its adapter to the domain's PolicyEnforcer port.

:func:`get_enforcer` builds an ``oslo_policy.policy.Enforcer`` with our default rules over a
``ConfigOpts`` (``[oslo_policy] policy_file`` etc.), so an operator's Glance ``policy.yaml``
overrides the defaults exactly as in Glance. :class:`OsloPolicyEnforcer` implements
``glance_domain.ports.PolicyEnforcer``: it turns a domain ``RequestContext`` into oslo.policy
credentials and raises ``glance_domain.errors.Forbidden`` when a rule denies.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from oslo_config import cfg
from oslo_policy import _checks, policy

from glance_domain.context import RequestContext
from glance_domain.errors import PolicyDenied
from glance_domain_adapters.policy.rules import list_rules

LOG = logging.getLogger(__name__)


#: Seconds between two looks for changes of the policy file and policy directories. oslo.policy
#: looks on every check (searching every configuration directory for the file, stat calls),
#: which cost more than the check itself; an edited policy file still applies within a second.
POLICY_RELOAD_INTERVAL = 1.0


class ThrottledEnforcer(policy.Enforcer):  # type: ignore[misc]
    """``oslo_policy.policy.Enforcer`` that reloads its rules at most once per interval."""

    _next_reload = 0.0

    def load_rules(self, force_reload: bool = False) -> None:
        now = time.monotonic()
        if force_reload or not self.rules or now >= self._next_reload:
            super().load_rules(force_reload)
            self._next_reload = now + POLICY_RELOAD_INTERVAL


@functools.lru_cache(maxsize=512)
def _argspec_of(func: Callable[..., Any]) -> inspect.FullArgSpec:
    return inspect.getfullargspec(func)


class _CachedArgspec:
    """Stand-in for the ``inspect`` module inside ``oslo_policy._checks``.

    oslo.policy evaluates every check node by first calling ``inspect.getfullargspec`` on its
    ``__call__`` (to learn whether it takes ``current_rule``), about a third of a check's cost.
    The answer depends only on the check's class, so it is cached per underlying function (a
    bound method's ``args`` include ``self`` either way); results are identical.
    """

    @staticmethod
    def getfullargspec(func: Callable[..., Any]) -> inspect.FullArgSpec:
        return _argspec_of(getattr(func, "__func__", func))

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)


_install_lock = threading.Lock()


def _install_argspec_cache() -> None:
    with _install_lock:
        if getattr(_checks, "inspect", None) is inspect:
            _checks.inspect = _CachedArgspec()  # type: ignore[assignment]


def get_enforcer(conf: cfg.ConfigOpts | None = None) -> policy.Enforcer:
    """An oslo.policy Enforcer with glance-domain's default rules registered.

    ``conf`` is the service configuration (its ``[oslo_policy]`` group is registered here).
    Called without arguments (the ``oslo.policy.enforcer`` entry point used by
    ``oslopolicy-policy-generator`` and ``oslopolicy-checker``), it uses a fresh configuration
    parsed from the command line's ``--config-file`` options, if any.
    """
    if conf is None:
        import sys

        from glance_domain_adapters import config

        conf = config.parse(config.new_conf(), [], config.config_files_from_argv(sys.argv[1:]))
    _install_argspec_cache()
    enforcer = ThrottledEnforcer(conf, use_conf=True, overwrite=False)
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
            raise PolicyDenied(rule)

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
