"""Extract fenced code blocks from the markdown pages, so their examples can be run as tests.

A block is not run when the last non-blank line before its opening fence is
``<!-- no-test: REASON -->`` (for examples that need a production host, a cloud, credentials,
or that start a long-running process). The reason is required: the tests list every block
that is not run, with its reason, and fail on a marker without one.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"
#: Languages whose blocks are shell commands (run by tests/docs/test_docs_shell.py).
SHELL_LANGUAGES = frozenset({"shell", "sh", "bash", "console"})

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*no-test(?::\s*(?P<reason>.*?))?\s*-->$")


@attrs.frozen
class Block:
    """One fenced block: its language, code, 1-based line of the opening fence, and, when it is
    marked not to run, the marker's reason (``""`` for a marker without one)."""

    language: str
    code: str
    line: int
    reason: str | None = None

    @property
    def skipped(self) -> bool:
        return self.reason is not None


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
        marker = _MARKER.match(previous)
        reason = None if marker is None else (marker["reason"] or "").strip()
        found.append(Block(language, "\n".join(body) + "\n", start + 1, reason))
        index += 1
    return found


def pages() -> list[Path]:
    """The documentation pages (docs/*.md) and the README."""
    return [*sorted(DOCS.glob("*.md")), README]


def page_blocks(path: Path, language: str | frozenset[str]) -> list[Block]:
    """The blocks of ``path`` in ``language`` (or in any of a set of languages)."""
    languages = frozenset({language}) if isinstance(language, str) else language
    return [b for b in blocks(path.read_text(encoding="utf-8")) if b.language in languages]
