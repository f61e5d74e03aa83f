"""``build_app(conf, gateway=...)`` uses the gateway's own policy to decide who is admin
(review P2.5): one enforcer for the whole application, never a second one from ``conf``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import webob

from glance_domain.context import RequestContext
from glance_domain_adapters import bootstrap


class SuperuserPolicy:
    """The configured policy, plus: the ``superuser`` role is admin and may do anything."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def enforce(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> None:
        if "superuser" not in context.roles:
            self.inner.enforce(context, rule, target)

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any]) -> bool:
        return "superuser" in context.roles or self.inner.check(context, rule, target)

    def is_admin(self, context: RequestContext) -> bool:
        return "superuser" in context.roles


def test_a_handed_in_gateway_decides_who_is_admin(tmp_path: Path) -> None:
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text(
        f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n"
        "enabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {tmp_path / 'images'}\n"
    )
    conf = bootstrap.load_config(config_files=[str(conf_file)])
    policy = SuperuserPolicy(bootstrap.build_policy(conf))
    gateway = bootstrap.build_gateway(conf, policy=policy)
    app = bootstrap.build_app(conf, gateway=gateway)
    owner = {"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member,reader",
             "X-Identity-Status": "Confirmed"}
    req = webob.Request.blank("/v2/images", method="POST", headers=owner)
    req.json_body = {"name": "private"}
    req.content_type = "application/json"
    created = req.get_response(app)
    assert created.status_int == 201, created.text
    superuser = {"X-Project-Id": "p9", "X-User-Id": "root", "X-Roles": "superuser",
                 "X-Identity-Status": "Confirmed"}
    shown = webob.Request.blank(f"/v2/images/{created.json['id']}",
                                headers=superuser).get_response(app)
    assert shown.status_int == 200, shown.text
