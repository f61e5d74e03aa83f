"""oslo.policy rules and the PolicyEnforcer adapter: Glance's defaults and policy files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from glance_domain.context import RequestContext
from glance_domain.errors import Forbidden
from glance_domain.ports import PolicyEnforcer
from glance_domain_adapters import bootstrap
from glance_domain_adapters.policy import rules
from glance_domain_adapters.policy.enforcer import OsloPolicyEnforcer, make_policy

ADMIN = RequestContext(user_id="a", project_id="p1", roles=("admin", "member", "reader"))
MEMBER = RequestContext(user_id="m", project_id="p1", roles=("member", "reader"))
READER = RequestContext(user_id="r", project_id="p1", roles=("reader",))
OTHER = RequestContext(user_id="o", project_id="p2", roles=("member", "reader"))
SERVICE = RequestContext(user_id="s", project_id="svc", roles=("service",))

OWN = {"project_id": "p1", "owner": "p1", "visibility": "private", "member_id": None}


@pytest.fixture
def policy(tmp_path: Path) -> OsloPolicyEnforcer:
    return make_policy(bootstrap.load_config(["--config-dir", str(tmp_path)]))


def test_adapter_implements_the_port(policy: OsloPolicyEnforcer) -> None:
    assert isinstance(policy, PolicyEnforcer)


@pytest.mark.parametrize(
    ("ctx", "rule", "target", "allowed"),
    [
        (READER, "get_images", OWN, True),
        (READER, "get_image", OWN, True),
        (READER, "add_image", OWN, False),
        (READER, "modify_image", OWN, False),
        (READER, "upload_image", OWN, False),
        (READER, "download_image", OWN, False),
        (MEMBER, "add_image", OWN, True),
        (MEMBER, "add_image", {**OWN, "owner": "p2"}, False),
        (MEMBER, "modify_image", OWN, True),
        (MEMBER, "delete_image", OWN, True),
        (MEMBER, "publicize_image", OWN, False),
        (MEMBER, "communitize_image", OWN, True),
        (ADMIN, "publicize_image", OWN, True),
        (ADMIN, "add_image", {**OWN, "owner": "p2"}, True),
        (OTHER, "modify_image", OWN, False),
        (OTHER, "get_image", OWN, False),
        (OTHER, "get_image", {**OWN, "visibility": "public"}, True),
        (OTHER, "get_image", {**OWN, "visibility": "shared"}, True),
        (OTHER, "get_image", {**OWN, "member_id": "p2"}, True),
        (OTHER, "download_image", {**OWN, "visibility": "community"}, True),
        (OTHER, "modify_member", {**OWN, "member_id": "p2"}, True),
        (MEMBER, "modify_member", {**OWN, "member_id": "p2"}, False),
        (OTHER, "get_members", OWN, False),
        (SERVICE, "fetch_image_location", OWN, True),
        (MEMBER, "fetch_image_location", OWN, False),
        (SERVICE, "stores_info_detail", OWN, True),
        (MEMBER, "stores_info_detail", OWN, False),
        (MEMBER, "delete_image_location", OWN, False),
        (MEMBER, "tasks_api_access", OWN, False),
    ],
)
def test_secure_rbac_defaults(
    policy: OsloPolicyEnforcer, ctx: RequestContext, rule: str, target: dict[str, object],
    allowed: bool,
) -> None:
    assert policy.check(ctx, rule, target) is allowed
    if allowed:
        policy.enforce(ctx, rule, target)
    else:
        with pytest.raises(Forbidden, match=rule):
            policy.enforce(ctx, rule, target)


def test_is_admin_follows_context_is_admin(policy: OsloPolicyEnforcer) -> None:
    assert policy.is_admin(ADMIN)
    assert not policy.is_admin(MEMBER)


def test_domain_scoped_token_is_denied(policy: OsloPolicyEnforcer) -> None:
    scoped = RequestContext(user_id="a", project_id=None, roles=("admin",), domain_id="d1")
    assert not policy.check(scoped, "get_images", OWN)
    # With a project, domain_id is the project's (or user's) domain: still project scope.
    project = RequestContext(user_id="a", project_id="p1", roles=("reader",), domain_id="d1")
    assert policy.check(project, "get_images", OWN)


def test_operator_policy_file_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(
        '"get_images": "role:admin"\n'
        '"context_is_admin": "role:admin or role:cloud_admin"\n'
        '"get_metadef_namespaces": "rule:default"\n'  # a Glance rule we do not register
    )
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n")
    policy = make_policy(bootstrap.load_config(config_files=[str(conf_file)]))
    assert not policy.check(MEMBER, "get_images", OWN)
    assert policy.check(ADMIN, "get_images", OWN)
    assert policy.check(MEMBER, "add_image", OWN)  # untouched rules keep their defaults
    cloud_admin = RequestContext(user_id="c", project_id="p9", roles=("cloud_admin",))
    assert policy.is_admin(cloud_admin)
    assert policy.check(cloud_admin, "publicize_image", OWN)


def test_policy_file_found_next_to_config_file(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text('"add_image": "!"\n')
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text("[DEFAULT]\n")
    policy = make_policy(bootstrap.load_config(config_files=[str(conf_file)]))
    assert not policy.check(ADMIN, "add_image", OWN)


def test_rule_names_are_glances() -> None:
    names = {r.name for r in rules.list_rules()}
    assert {
        "default", "context_is_admin", "service_api", "add_image", "delete_image", "get_image",
        "get_images", "modify_image", "publicize_image", "communitize_image", "download_image",
        "upload_image", "delete_image_location", "get_image_location", "set_image_location",
        "add_image_location", "fetch_image_location", "add_member", "delete_member",
        "get_member", "get_members", "modify_member", "deactivate", "reactivate", "copy_image",
        "stores_info_detail",
    } <= names
    assert len(names) == len(rules.list_rules())


def test_oslopolicy_sample_generator(tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    script = Path(sys.executable).parent / "oslopolicy-sample-generator"
    subprocess.run(
        [str(script), "--namespace", "glance_domain", "--output-file", str(out)],
        check=True, capture_output=True, timeout=60,
    )
    text = out.read_text()
    assert '#"get_images": "rule:context_is_admin or (role:reader and' in text
    # The commented-out sample, uncommented, is a valid policy file equal to the defaults.
    uncommented = "\n".join(
        line[1:] for line in text.splitlines() if line.startswith('#"')
    )
    assert yaml.safe_load(uncommented)["publicize_image"] == "rule:context_is_admin"


def test_oslopolicy_policy_generator_uses_enforcer_entry_point(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text('"get_images": "role:admin"\n')
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n")
    script = Path(sys.executable).parent / "oslopolicy-policy-generator"
    result = subprocess.run(
        [str(script), "--namespace", "glance_domain", "--config-file", str(conf_file)],
        check=True, capture_output=True, text=True, timeout=60,
    )
    assert '"context_is_admin": "role:admin"' in result.stdout
    assert '"get_images": "role:admin"' in result.stdout


#: Glance 33's default rules (name -> check string and scope types), as its
#: ``glance.policies.list_rules()`` returns them: exported once from the glance 33.0.0 wheel
#: (``pip download glance==33.0.0 --no-deps``, unzipped, ``policies.list_rules()`` dumped to
#: JSON) and committed, so the comparison always runs.
GLANCE_DEFAULTS = Path(__file__).parent / "data" / "glance33-default-policies.json"


def test_defaults_equal_glances_check_strings() -> None:
    glance = json.loads(GLANCE_DEFAULTS.read_text(encoding="utf-8"))
    assert len(glance) > 60  # the real export, not a stub
    ours = list(rules.list_rules())
    assert ours
    for rule in ours:
        assert rule.name in glance, rule.name
        assert glance[rule.name]["check_str"] == rule.check_str, rule.name
        assert glance[rule.name]["scope_types"] == list(rule.scope_types or []), rule.name
