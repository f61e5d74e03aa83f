"""What an import caller asks for, validated at the edge of the domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

GLANCE_DIRECT = "glance-direct"
WEB_DOWNLOAD = "web-download"
COPY_IMAGE = "copy-image"
GLANCE_DOWNLOAD = "glance-download"


@attrs.frozen(kw_only=True)
class ImportRequest:
    """One ``POST /v2/images/{id}/import``.

    ``stores``: target backends (None: ``store_header`` or the default backend);
    ``all_stores``: every writable backend; ``body``: the request document as received, kept in
    the task's input like Glance does.
    """

    method: str
    uri: str | None = None
    stores: tuple[str, ...] | None = None
    all_stores: bool = False
    all_stores_must_succeed: bool = True
    store_header: str | None = None
    body: Mapping[str, Any] = attrs.field(factory=dict)
    #: glance-download: the remote image, its region and endpoint interface.
    glance_image_id: str | None = None
    glance_region: str | None = None
    glance_service_interface: str = "public"
