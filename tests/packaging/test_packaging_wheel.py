"""The project builds into a wheel and an sdist that carry everything an install needs."""

from __future__ import annotations

import configparser
import tarfile
import zipfile
from pathlib import Path

import pytest

PACKAGES = ("glance_domain", "glance_domain_adapters")


@pytest.mark.slow
def test_wheel_and_sdist_build_with_packages_data_and_entry_points(
    built: dict[str, Path],
) -> None:
    wheel, sdist = built["glance_domain"], built["glance_domain-sdist"]
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names
        assert f"{package}/py.typed" in names
    assert "glance_domain_adapters/cli/main.py" in names
    migrations = [n for n in names if n.startswith("glance_domain_adapters/db/migrations/")]
    assert "glance_domain_adapters/db/migrations/alembic.ini" in migrations
    assert "glance_domain_adapters/db/migrations/script.py.mako" in migrations
    assert any(n.startswith("glance_domain_adapters/db/migrations/versions/") and
               n.endswith(".py") and not n.endswith("__init__.py") for n in migrations)
    assert not any(n.startswith(("tests/", "docs/", "bench/")) for n in names)

    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    entry_points = configparser.ConfigParser()
    entry_points.read_string(zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt")
                             .decode())
    assert entry_points["console_scripts"]["glance-domain"] == (
        "glance_domain_adapters.cli.main:main")
    assert "glance_store_plugins.drivers" not in entry_points  # glance-store-plugins' own
    assert not any(n.startswith("glance_store_plugins/") for n in names)
    for group in ("oslo.config.opts", "oslo.policy.policies", "oslo.policy.enforcer"):
        assert "glance_domain" in entry_points[group]
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    for extra in ("s3", "keystone", "postgresql", "mysql", "test"):
        assert f"Provides-Extra: {extra}" in metadata
    assert "Requires-Dist: glance-store-plugins==" in metadata

    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/setup.cfg") for m in members)
    assert any(m.endswith("/glance_domain_adapters/db/migrations/alembic.ini") for m in members)


@pytest.mark.slow
def test_store_plugins_distribution_holds_the_driver_api_and_drivers(
    built: dict[str, Path],
) -> None:
    """glance_store_plugins ships alone, depending on attrs and stevedore only."""
    wheel = zipfile.ZipFile(built["glance_store_plugins"])
    names = set(wheel.namelist())
    for module in ("__init__", "base", "registry", "options", "testing", "drivers/filesystem",
                   "drivers/http", "drivers/s3", "drivers/memory"):
        assert f"glance_store_plugins/{module}.py" in names
    assert "glance_store_plugins/py.typed" in names
    assert not any(n.startswith(("glance_domain/", "glance_domain_adapters/")) for n in names)
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    metadata = wheel.read(f"{dist_info}/METADATA").decode()
    core = sorted(line.split(":", 1)[1].strip().split(">")[0].split("=")[0].split(";")[0]
                  for line in metadata.splitlines()
                  if line.startswith("Requires-Dist:") and "extra ==" not in line)
    assert core == ["attrs", "stevedore"]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{dist_info}/entry_points.txt").decode())
    assert set(entry_points["glance_store_plugins.drivers"]) >= {"file", "http", "s3", "memory"}
    with tarfile.open(built["glance_store_plugins-sdist"]) as tar:
        members = tar.getnames()
    assert any(m.endswith("/glance_store_plugins/base.py") for m in members)
    assert any(m.endswith("/setup.cfg") for m in members)
