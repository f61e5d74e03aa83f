"""Requested changes to an image (from a JSON-patch document, the CLI, or a library caller).

A ``Change`` is Glance's JSON-patch operation in domain terms: ``op`` is add, replace or remove;
``path`` is the split JSON pointer (``("name",)``, ``("tags",)``, ``("locations", "-")``,
``("my_property",)``). ``apply_changes`` (implemented in this module) validates them with
Glance's rules and returns the new Image; ``diff`` tells layers what differs between two images.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

ChangeOp = Literal["add", "replace", "remove"]


@attrs.frozen
class Change:
    """One add/replace/remove of an attribute, extra property, tags or locations."""

    op: ChangeOp
    path: tuple[str, ...]
    value: Any = None
