"""Where an image's bytes live."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs


def _freeze(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen(kw_only=True, hash=False)
class Location:
    """One copy of an image's data: a store URL plus metadata.

    ``metadata["store"]`` names the backend that holds it (Glance's multi-store convention).
    ``status`` is Glance's location status: ``active``, ``pending_delete`` or ``deleted``.
    """

    url: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze)
    status: str = "active"

    @property
    def backend(self) -> str | None:
        """The backend id recorded in the metadata, if any."""
        store = self.metadata.get("store")
        return str(store) if store is not None else None
