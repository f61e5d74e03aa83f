"""The domain imports no framework and no adapter: checked by walking every module's AST."""

from __future__ import annotations

import ast
from pathlib import Path

import glance_domain

FORBIDDEN = (
    "webob", "sqlalchemy", "oslo", "oslo_config", "oslo_policy", "oslo_context", "oslo_log",
    "oslo_messaging", "oslo_utils", "stevedore", "alembic", "boto3", "glance_domain_adapters",
    "glance_store_plugins",
)
ROOT = Path(glance_domain.__file__).parent


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(source: str) -> set[str]:
    return {
        name for name in imported_modules(source)
        if name.split(".")[0] in FORBIDDEN or name.startswith("oslo.")
    }


def test_checker_detects_forbidden_imports() -> None:
    assert offending("import webob\nfrom oslo_config import cfg\nimport attrs\n") == {
        "webob", "oslo_config"}
    assert offending("def f():\n    from sqlalchemy import orm\n") == {"sqlalchemy"}


def test_domain_imports_no_framework() -> None:
    modules = sorted(ROOT.rglob("*.py"))
    assert len(modules) > 10
    bad = {
        str(path.relative_to(ROOT)): found
        for path in modules
        if (found := offending(path.read_text(encoding="utf-8")))
    }
    assert bad == {}
