"""The image status machine: ONE table of legal transitions, and the function that applies it.

Same transitions as Glance v2: ``saving -> queued`` (and ``importing/uploading -> queued``) exist so
a failed upload can be retried; ``killed`` is only reachable for compatibility.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from glance_domain.errors import InvalidInput, InvalidStatusTransition
from glance_domain.model.image import Image

#: current status -> statuses it may move to.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "queued": frozenset({"saving", "uploading", "importing", "active", "deleted"}),
    "saving": frozenset({"active", "killed", "deleted", "queued"}),
    "uploading": frozenset({"importing", "queued", "deleted"}),
    "importing": frozenset({"active", "deleted", "queued"}),
    "active": frozenset({"pending_delete", "deleted", "deactivated"}),
    "killed": frozenset({"deleted"}),
    "pending_delete": frozenset({"deleted", "active"}),
    "deleted": frozenset(),
    "deactivated": frozenset({"active", "deleted"}),
}

STATUSES = tuple(TRANSITIONS)

#: Statuses whose images hold data (they must have size, checksum, hash and a location).
DATA_STATUSES = frozenset({"active", "deactivated"})

_NEEDS_FORMATS_FROM = frozenset({"queued", "uploading"})
_NEEDS_FORMATS_TO = frozenset({"saving", "active", "importing"})


def check_transition(image: Image, new_status: str) -> None:
    """Raise if ``image`` may not move to ``new_status``.

    ``InvalidStatusTransition`` for a transition not in the table; ``InvalidInput`` when data is
    about to be saved but ``disk_format``/``container_format`` are unset (Glance's rule).
    """
    current = image.status
    if new_status not in TRANSITIONS.get(current, frozenset()):
        raise InvalidStatusTransition(
            f"Image status transition from {current} to {new_status} is not allowed"
        )
    if current in _NEEDS_FORMATS_FROM and new_status in _NEEDS_FORMATS_TO:
        missing = [k for k in ("disk_format", "container_format") if not getattr(image, k)]
        if len(missing) == 1:
            raise InvalidInput(f"Property {missing[0]} must be set prior to saving data.")
        if missing:
            raise InvalidInput(f"Properties {', '.join(missing)} must be set prior to saving data.")


def transition(image: Image, new_status: str, **changes: Any) -> Image:
    """A copy of ``image`` in ``new_status`` (plus ``changes``), after checking the table.

    Going back to ``queued`` clears size and virtual_size, as Glance does.
    """
    check_transition(image, new_status)
    if new_status == "queued":
        changes.setdefault("size", None)
        changes.setdefault("virtual_size", None)
    return attrs.evolve(image, status=new_status, **changes)
