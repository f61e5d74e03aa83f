"""The policy rules of a property protection file in the policies format.

With ``property_protection_rule_format = policies`` a section ``[^x_billing_.*]`` with
``create = billing_admin`` is decided by the rule ``^x_billing_.*:create``, defined as
``rule:billing_admin`` (so ``billing_admin`` is a rule of the operator's policy file), as Glance
defines it. The rules are registered as defaults of our oslo.policy enforcer: a policy file may
still define a rule of the same name itself, and they survive the enforcer's reloads of the
policy file.
"""

from __future__ import annotations

import logging

from oslo_policy import policy

from glance_domain.protections import PropertyProtections

LOG = logging.getLogger(__name__)


def register_property_rules(enforcer: policy.Enforcer, protections: PropertyProtections) -> None:
    """Define the ``<section>:<operation>`` rules of ``protections`` on ``enforcer``."""
    for name, check_str in protections.policy_rules().items():
        if name in enforcer.registered_rules:
            continue
        default = policy.RuleDefault(
            name, check_str, description="Property protection (property_protection_file).")
        enforcer.register_default(default)
        if enforcer.rules and name not in enforcer.rules:
            # rules already loaded: the enforcer adds new defaults only on its next reload
            enforcer.rules[name] = default.check
    _warn_undefined(enforcer, protections)


def _warn_undefined(enforcer: policy.Enforcer, protections: PropertyProtections) -> None:
    """Warn about policy names the file refers to that neither the policy file nor our
    defaults define: oslo.policy then decides by its ``default`` rule (Glance's allows
    everybody), which is rarely what the operator meant (a misspelling, say)."""
    try:
        enforcer.load_rules()
    except Exception:  # a bad policy file is reported where it is used
        return
    for name, check_str in sorted(protections.policy_rules().items()):
        wanted = check_str.removeprefix("rule:")
        if wanted not in enforcer.rules and wanted not in enforcer.registered_rules:
            LOG.warning("property protection rule %s refers to policy %r, which is not "
                        "defined: the policy file's default rule decides", name, wanted)
