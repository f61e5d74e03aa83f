"""Sphinx configuration of the glance-domain documentation (markdown pages via myst-parser).

Build: ``sphinx-build -W -b html docs docs/_build/html`` (the test suite builds it too, with
warnings as errors, so a broken link or a page missing from the toctree fails the tests).
"""

from __future__ import annotations

project = "glance-domain"
author = "glance-domain contributors"
copyright = "glance-domain contributors"
release = "0.1.0"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.*", "Thumbs.db", ".DS_Store"]

# Markdown niceties: ::: fences, definition lists, and anchors for ## and ### headings so
# pages can link to [a section](page.md#section-title).
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = "glance-domain"
html_static_path: list[str] = []
