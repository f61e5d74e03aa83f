"""Each distribution of the repository declares exactly the distributions its code imports.

For ``glance-domain`` (packages ``glance_domain`` and ``glance_domain_adapters``, ``setup.cfg``)
and ``glance-store-plugins`` (package ``glance_store_plugins``, ``store-plugins/setup.cfg``),
every ``import`` in the code (at any depth, lazy ones included) is resolved to the distribution
that provides it, and compared with the requirements (core and extras; the ``test`` extra holds
development tools and is left out):

* an imported distribution must be declared (core, or an extra for an optional backend);
* a declared distribution must be imported, unless :data:`NOT_IMPORTED` says why not.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

#: ``{distribution: (setup.cfg, packages)}``
DISTRIBUTIONS = {
    "glance-domain": (ROOT / "setup.cfg", ("glance_domain", "glance_domain_adapters")),
    "glance-store-plugins": (ROOT / "store-plugins" / "setup.cfg", ("glance_store_plugins",)),
}

#: Our own packages, by the distribution that ships them.
OWN = {"glance_domain": "glance-domain", "glance_domain_adapters": "glance-domain",
       "glance_store_plugins": "glance-store-plugins"}

#: Modules that no PyPI distribution provides (they come with the operating system), and why.
SYSTEM_MODULES = {
    "rados": "Ceph's Python bindings (Debian python3-rados), used by the rbd driver",
    "rbd": "Ceph's Python bindings (Debian python3-rbd), used by the rbd driver",
}

#: Requirements nothing of ours imports, and why they are declared anyway.
NOT_IMPORTED = {
    "glance-domain": {
        "psycopg": "extra postgresql: the SQLAlchemy dialect of postgresql+psycopg:// URLs",
        "pymysql": "extra mysql: the SQLAlchemy dialect of mysql+pymysql:// URLs",
        "python-glanceclient": "extra clients: the glance command line client",
        "openstacksdk": "extra clients: the openstack command line client's library",
        "python-openstackclient": "extra clients: the openstack command line client",
    },
    "glance-store-plugins": {},
}


def _requirements(setup_cfg: Path) -> dict[str, str]:
    """``{canonical distribution name: "core" | extra name}`` (the development extras, test
    and docs, left out: they hold tools, not libraries the code imports)."""
    parser = configparser.ConfigParser()
    parser.read(setup_cfg)
    found: dict[str, str] = {}

    def add(lines: Iterable[str], where: str) -> None:
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if line:
                found.setdefault(canonicalize_name(Requirement(line).name), where)

    add(parser["options"].get("install_requires", "").splitlines(), "core")
    if parser.has_section("options.extras_require"):
        for extra, lines in parser["options.extras_require"].items():
            if extra not in ("test", "docs"):
                add(lines.splitlines(), extra)
    return found


def _imported_modules(packages: Iterable[str]) -> dict[str, set[str]]:
    """``{top-level module: {files importing it}}`` over every module of ``packages``."""
    found: dict[str, set[str]] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(
                        str(path.relative_to(ROOT)))
    return found


def _distribution_of(module: str, mapping: dict[str, list[str]]) -> str | None:
    """The distribution providing top-level ``module`` (None: the standard library)."""
    if module in sys.stdlib_module_names or module == "__future__" or module in SYSTEM_MODULES:
        return None
    if module in OWN:
        return OWN[module]
    dists = mapping.get(module)
    if not dists:
        raise AssertionError(f"no installed distribution provides module {module!r}")
    return canonicalize_name(dists[0])


@pytest.mark.parametrize("distribution", sorted(DISTRIBUTIONS))
def test_imports_match_declared_requirements(distribution: str) -> None:
    setup_cfg, packages = DISTRIBUTIONS[distribution]
    declared = _requirements(setup_cfg)
    mapping = importlib.metadata.packages_distributions()
    imported: dict[str, set[str]] = {}
    for module, files in _imported_modules(packages).items():
        dist = _distribution_of(module, mapping)
        if dist is not None and dist != distribution:
            imported.setdefault(dist, set()).update(files)

    undeclared = {d: sorted(f)[:3] for d, f in imported.items() if d not in declared}
    assert not undeclared, f"{distribution}: imported but not declared: {undeclared}"
    unused = sorted(d for d in declared
                    if d not in imported and d not in NOT_IMPORTED[distribution])
    assert not unused, f"{distribution}: declared but never imported: {unused}"
    stale = sorted(d for d in NOT_IMPORTED[distribution] if d in imported or d not in declared)
    assert not stale, f"{distribution}: NOT_IMPORTED entries now wrong: {stale}"


def test_store_plugins_need_only_the_driver_api_libraries() -> None:
    """A driver package depends on glance-store-plugins alone, which needs attrs + stevedore."""
    declared = _requirements(DISTRIBUTIONS["glance-store-plugins"][0])
    assert sorted(d for d, where in declared.items() if where == "core") == [
        "attrs", "stevedore"]
    for plugin in (ROOT / "examples" / "example_store_plugin",
                   ROOT / "tests" / "plugins" / "chunked_store_plugin"):
        assert set(_requirements(plugin / "setup.cfg")) == {"glance-store-plugins"}
