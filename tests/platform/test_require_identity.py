"""With keystone, a request that reached the app without identity headers is refused (401),
never the local admin (review P1.12: a misconfigured pipeline must not grant admin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_domain_adapters import bootstrap
from glance_domain_adapters.wsgi.context import Unauthenticated


def _conf(tmp_path: Path, flavor: str) -> object:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n"
                    f"[paste_deploy]\nflavor = {flavor}\n")
    return bootstrap.load_config(config_files=[str(path)])


def test_keystone_flavor_requires_identity(tmp_path: Path) -> None:
    factory = bootstrap.context_factory(_conf(tmp_path, "keystone"))  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        factory({})
    ctx = factory({"HTTP_X_IDENTITY_STATUS": "Confirmed", "HTTP_X_PROJECT_ID": "p1",
                   "HTTP_X_ROLES": "member"})
    assert ctx.project_id == "p1" and not ctx.is_admin


def test_without_keystone_no_identity_is_the_local_admin(tmp_path: Path) -> None:
    factory = bootstrap.context_factory(_conf(tmp_path, ""))  # type: ignore[arg-type]
    assert factory({}).is_admin
