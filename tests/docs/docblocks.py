"""Extract fenced code blocks from the markdown pages, so their examples can be run as tests.

A block is skipped when the last non-blank line before its opening fence is
``<!-- no-test -->`` (for examples that need a running server, a cloud, or credentials).
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"
SKIP_MARKER = "<!-- no-test -->"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@attrs.frozen
class Block:
    """One fenced block: its language, code, 1-based line of the opening fence, skip flag."""

    language: str
    code: str
    line: int
    skipped: bool


def blocks(text: str) -> list[Block]:
    """Every fenced block of a markdown text (nested fences of other lengths are kept as code)."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        language = info.split()[0] if info else ""
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][len(match["indent"]):])
            index += 1
        previous = next((ln.strip() for ln in reversed(lines[:start]) if ln.strip()), "")
        found.append(Block(language, "\n".join(body) + "\n", start + 1, previous == SKIP_MARKER))
        index += 1
    return found


def pages() -> list[Path]:
    """The documentation pages (docs/*.md) and the README."""
    return [*sorted(DOCS.glob("*.md")), README]


def page_blocks(path: Path, language: str) -> list[Block]:
    return [b for b in blocks(path.read_text(encoding="utf-8")) if b.language == language]
