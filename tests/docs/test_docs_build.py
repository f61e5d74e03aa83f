"""The documentation builds with Sphinx, warnings as errors (broken links, orphan pages...)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs.docblocks import DOCS


def test_sphinx_builds_the_docs_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "cli.html").exists()


def test_every_page_is_in_the_index_toctree() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = {line.strip() for line in index.splitlines()}
    missing = [p.stem for p in DOCS.glob("*.md") if p.stem != "index" and p.stem not in listed]
    assert not missing, f"pages not in docs/index.md's toctree: {missing}"


def test_the_readme_links_every_page() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted(DOCS.glob("*.md"))
               if p.stem != "index" and f"(docs/{p.name})" not in readme]
    assert not missing, f"pages missing from README.md's documentation list: {missing}"


def test_benchmarks_cite_only_the_repository_and_date_their_history() -> None:
    """docs/benchmarks.md: figures come from scripts in bench/ (which exist), earlier ones sit
    in a dated History section, and no file outside the repository is cited."""
    import re

    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    for script in set(re.findall(r"bench/[\w.]+\.py", text)):
        assert (DOCS.parent / script).is_file(), script
    assert not re.search(r"/work/|`/tmp/|/home/|NOTES\.md", text)
    current, _, history = text.partition("\n## History (")
    assert history, "measurements of earlier code belong in the dated History section"
    assert not re.search(r"^\| .*\d.*\|$", current, re.MULTILINE), \
        "figure tables above the History section"
    for heading in re.findall(r"^### .*$", history, re.MULTILINE):
        assert re.search(r"\(\d{4}-\d{2}-\d{2}", heading), heading
