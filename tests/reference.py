"""Where the tests find the documents captured from a running Glance 33 (versions, schemas).

They live beside the checkout, in ``../shared/reference/glance-33`` (found relative to this
checkout, wherever it is), or where ``GD_GLANCE_REFERENCE`` points. A missing folder skips the
tests that compare against it, or fails them under ``CI=true``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

CHECKOUT = Path(__file__).resolve().parents[1]
REFERENCE = Path(
    os.environ.get("GD_GLANCE_REFERENCE", CHECKOUT.parent / "shared" / "reference" / "glance-33")
)


def reference_document(name: str) -> Any:
    """The parsed JSON reference document ``name`` (e.g. ``versions.json``)."""
    path = REFERENCE / name
    if not path.is_file():
        unavailable(f"Glance 33 reference document {path} not found (set GD_GLANCE_REFERENCE)")
    return json.loads(path.read_text(encoding="utf-8"))
