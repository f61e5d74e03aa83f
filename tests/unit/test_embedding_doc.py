"""docs/embedding.md's example runs and asserts what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_embedding_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write a configuration file, databases, images
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert blocks, "docs/embedding.md has no python example"
    namespace: dict[str, object] = {"__name__": "embedding_example"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "gateway" in namespace and "notifier" in namespace


def test_a_false_claim_in_the_example_would_fail() -> None:
    namespace: dict[str, object] = {}
    try:
        exec(compile("assert 1 == 2, 'claim'", "x", "exec"), namespace)
    except AssertionError as exc:
        assert "claim" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("exec swallowed a failing assertion")
