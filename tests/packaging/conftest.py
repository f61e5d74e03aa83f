"""Wheels and sdists of both distributions of the repository, built once per session.

``glance-domain`` (the repository root) and ``glance-store-plugins`` (``store-plugins/``, the
store driver API) are built from a copy of the source tree without build isolation (offline).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def copy_sources(target: Path) -> Path:
    """The committed-looking source tree (no .venv, caches or build output) in ``target``."""
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "data",
        ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "_build",
    )
    source = target / "src"
    shutil.copytree(ROOT, source, ignore=ignore, symlinks=True)
    return source


def build(project: Path, out: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(project)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"glance_domain" | "glance_store_plugins": wheel, "...-sdist": sdist}``."""
    tmp = tmp_path_factory.mktemp("dists")
    source = copy_sources(tmp)
    out = tmp / "dist"
    build(source / "store-plugins", out)
    build(source, out)
    found: dict[str, Path] = {}
    for name in ("glance_domain", "glance_store_plugins"):
        found[name] = next(out.glob(f"{name}-*.whl"))
        found[f"{name}-sdist"] = next(out.glob(f"{name}-*.tar.gz"))
    return found
