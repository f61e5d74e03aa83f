"""The project builds into a wheel and an sdist that carry everything an install needs."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("glance_domain", "glance_domain_adapters", "glance_store_plugins")


def _copy_sources(target: Path) -> Path:
    """The committed-looking source tree (no .venv, caches or build output) in ``target``."""
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "data",
        ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "_build",
    )
    source = target / "src"
    shutil.copytree(ROOT, source, ignore=ignore)
    return source


@pytest.mark.slow
def test_wheel_and_sdist_build_with_packages_data_and_entry_points(tmp_path: Path) -> None:
    source = _copy_sources(tmp_path)
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheel = next(out.glob("glance_domain-*.whl"))
    sdist = next(out.glob("glance_domain-*.tar.gz"))

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
    assert set(entry_points["glance_store_plugins.drivers"]) >= {"file", "http", "s3", "memory"}
    for group in ("oslo.config.opts", "oslo.policy.policies", "oslo.policy.enforcer"):
        assert "glance_domain" in entry_points[group]
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    for extra in ("s3", "keystone", "postgresql", "mysql", "test"):
        assert f"Provides-Extra: {extra}" in metadata

    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/setup.cfg") for m in members)
    assert any(m.endswith("/glance_domain_adapters/db/migrations/alembic.ini") for m in members)
