"""Embedding the real stack: admin-ness from the policy, a handed-in notifier, unmigrated
databases reported as such (library, CLI and ``serve``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from glance_domain import DefaultPolicy, NotFound, RecordingNotifier, RequestContext
from glance_domain_adapters import bootstrap
from glance_domain_adapters.cli.main import main as cli_main
from glance_domain_adapters.db import migrate
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.errors import DatabaseNotMigrated
from glance_domain_adapters.db.repository import SqlImageRepository


def _conf(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\ndata_dir = {tmp_path}/data\n{text}")
    return path


def _private_image_of_team_a(gateway: object) -> str:
    alice = gateway.service(  # type: ignore[attr-defined]
        RequestContext(project_id="team-a", user_id="alice", roles=("member",)))
    return str(alice.create_image(name="p", disk_format="raw", container_format="bare",
                                  visibility="private").id)


def test_admin_role_is_admin_in_process_with_the_default_policy(tmp_path: Path) -> None:
    conf = bootstrap.load_config(config_files=[str(_conf(tmp_path))])
    gateway = bootstrap.build_gateway(conf)
    image_id = _private_image_of_team_a(gateway)
    root = gateway.service(RequestContext(project_id="ops", user_id="r", roles=("admin",)))
    assert root.get_image(image_id).id == image_id
    other = gateway.service(RequestContext(project_id="ops", user_id="m", roles=("member",)))
    with pytest.raises(NotFound):
        other.get_image(image_id)


def test_context_is_admin_of_the_policy_file_decides(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text('"context_is_admin": "role:superuser"\n')
    conf = bootstrap.load_config(config_files=[str(_conf(
        tmp_path, f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n"))])
    gateway = bootstrap.build_gateway(conf)
    image_id = _private_image_of_team_a(gateway)
    admin_role = gateway.service(RequestContext(project_id="ops", user_id="a",
                                                roles=("admin",)))
    with pytest.raises(NotFound):
        admin_role.get_image(image_id)
    superuser = gateway.service(RequestContext(project_id="ops", user_id="s",
                                               roles=("superuser", "reader")))
    assert superuser.get_image(image_id).id == image_id


def test_build_gateway_takes_a_notifier(tmp_path: Path) -> None:
    notifier = RecordingNotifier()
    conf = bootstrap.load_config(config_files=[str(_conf(tmp_path))])
    gateway = bootstrap.build_gateway(conf, notifier=notifier)
    _private_image_of_team_a(gateway)
    assert notifier.event_types() == ["image.create"]


def _unmigrated(tmp_path: Path) -> Path:
    return _conf(tmp_path, f"[database]\nconnection = sqlite:///{tmp_path}/empty.sqlite\n")


def test_unmigrated_database_is_reported_when_building(tmp_path: Path) -> None:
    conf = bootstrap.load_config(config_files=[str(_unmigrated(tmp_path))])
    with pytest.raises(DatabaseNotMigrated, match=r"never migrated.*glance-domain db upgrade"):
        bootstrap.build_gateway(conf)


def test_older_schema_version_is_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.sqlite"
    migrate.upgrade(url, "0001_initial")
    with pytest.raises(DatabaseNotMigrated, match=r"schema version 0001_initial, this "
                       r"glance-domain needs .*db upgrade"):
        migrate.require_current(url)
    migrate.upgrade(url)
    migrate.require_current(url)


def test_repository_on_an_unmigrated_database_says_so(tmp_path: Path) -> None:
    from glance_domain import DomainSettings, Gateway, MemoryStoreRegistry

    repository = SqlImageRepository(make_engine(f"sqlite:///{tmp_path}/empty.sqlite"))
    gateway = Gateway(repository=repository, stores=MemoryStoreRegistry(("default",)),
                      policy=DefaultPolicy(), notifier=RecordingNotifier(),
                      settings=DomainSettings())
    with pytest.raises(DatabaseNotMigrated, match=r"not migrated.*db upgrade") as info:
        _private_image_of_team_a(gateway)
    assert "retry later" not in str(info.value)


def test_cli_on_an_unmigrated_database_says_how_to_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _unmigrated(tmp_path)
    assert cli_main(["--config-file", str(path), "image", "list"]) == 1
    err = capsys.readouterr().err
    assert "not migrated" in err and "glance-domain db upgrade" in err
    assert "Service unavailable" not in err and "retry" not in err
    assert cli_main(["--config-file", str(path), "db", "upgrade"]) == 0
    assert cli_main(["--config-file", str(path), "image", "list"]) == 0


def test_serve_on_an_unmigrated_database_stops_with_the_reason(tmp_path: Path) -> None:
    path = _unmigrated(tmp_path)
    with path.open("a") as conf:
        conf.write("bind_host = 127.0.0.1\n")
    result = subprocess.run(
        [sys.executable, "-m", "glance_domain_adapters.cli.main", "--config-file", str(path),
         "serve"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "not migrated" in result.stderr and "glance-domain db upgrade" in result.stderr
