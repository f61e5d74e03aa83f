"""``glance-domain image ...`` runs the same layers as the API: property protections apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_harness import Cli, write_config

RULES = """
[^x_team_]
create = admin,member
read = admin,member
update = admin,member
delete = admin

[^x_ops_]
create = admin
read = admin
update = admin
delete = admin
"""


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    config = write_config(tmp_path)
    (tmp_path / "protections.conf").write_text(RULES)
    with config.open("a") as f:
        f.write(f"[DEFAULT]\nproperty_protection_file = {tmp_path / 'protections.conf'}\n")
    return Cli(config, capsys)


def test_cli_applies_property_protections(cli: Cli) -> None:
    image = cli.create("--name", "i", "--property", "x_ops_owner=ops", "--property",
                       "x_team_name=blue")  # the local admin
    member = ("--os-project-id", "admin", "--os-roles", "member,reader")
    shown = cli.ok("image", "show", image["id"], "-f", "json", *member).json()
    assert shown.get("x_team_name") == "blue" and "x_ops_owner" not in shown
    refused = cli("image", "update", image["id"], "--property", "x_other=1", *member)
    assert refused.code == 1, refused
    assert refused.err == ("glance-domain: error: Forbidden (protected property): "
                           "Attribute 'x_other' is reserved.\n")
    assert cli("image", "update", image["id"], "--remove-property", "x_team_name",
               *member).code == 1  # delete: admin only
    assert cli.ok("image", "show", image["id"], "-f", "json").json()["x_ops_owner"] == "ops"
