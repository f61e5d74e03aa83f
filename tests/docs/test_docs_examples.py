"""Every ```python block of the docs (and README) runs: examples stay true as the code changes.

The blocks of one page run in order in one namespace (later examples build on earlier ones),
in a fresh temporary working directory. Mark a block that cannot run here with
``<!-- no-test: REASON -->`` on the line before it (listed by tests/docs/test_docs_shell.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.docblocks import blocks, page_blocks, pages

PAGES_WITH_PYTHON = [p for p in pages() if any(not b.skipped for b in page_blocks(p, "python"))]


def _run_page(path: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    for block in page_blocks(path, "python"):
        if block.skipped:
            continue
        code = compile(block.code, f"{path.name}:{block.line}", "exec")
        exec(code, namespace)


@pytest.mark.parametrize("path", PAGES_WITH_PYTHON, ids=lambda p: p.name)
def test_python_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _run_page(path)


def test_extractor_finds_blocks_and_honours_the_skip_marker() -> None:
    text = (
        "# Page\n\n```python\nx = 1\n```\n\n<!-- no-test: needs a cloud -->\n\n"
        "```python\nraise SystemExit\n```\n"
        "\n````markdown\n```python\nnot code\n```\n````\n\n"
        "<!-- no-test -->\n```shell\necho hi\n```\n"
    )
    found = blocks(text)
    assert [(b.language, b.reason, b.line) for b in found] == [
        ("python", None, 3), ("python", "needs a cloud", 9), ("markdown", None, 13),
        ("shell", "", 20),
    ]
    assert [b.skipped for b in found] == [False, True, False, True]
    assert found[0].code == "x = 1\n"
    assert "```python" in found[2].code


def test_a_failing_example_fails(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("```python\nassert 1 + 1 == 3, 'arithmetic'\n```\n")
    with pytest.raises(AssertionError, match="arithmetic"):
        _run_page(page)
