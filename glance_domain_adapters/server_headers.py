"""Keep the Image API v1's ``x-image-meta-*`` headers that are spelt with underscores.

v1 clients (python-glanceclient before 3.0, scripts) send ``x-image-meta-disk_format``,
``x-image-meta-property-os_distro``... gunicorn >= 22 silently drops every header whose name
holds an underscore (``header_map = drop``): such a name and its dashed twin land on the same
WSGI environ key, so a proxy that filters ``X-Roles`` could be bypassed with ``X_Roles``.
Mapping all of them (``header_map = dangerous``) would reopen that; this parser renames only
names starting with ``X-IMAGE-META-`` (dashes for underscores) before gunicorn's policy runs.
Those names carry image metadata only -- never identity, and v1 always read both spellings
as one -- so every other underscore header is still dropped.
"""

from __future__ import annotations

from typing import Any

from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser

PREFIX = "X-IMAGE-META-"


class ImageMetaHeaderRequest(Request):  # type: ignore[misc]
    """gunicorn's request message, with ``X-IMAGE-META-*`` names de-underscored first."""

    def _apply_header_policy(self, name: str, value: str, *args: Any, **kwargs: Any) -> Any:
        if "_" in name and name.startswith(PREFIX):
            name = name.replace("_", "-")
        return super()._apply_header_policy(name, value, *args, **kwargs)


def install(parser: Any) -> None:
    """Make an HTTP/1 request ``parser`` build :class:`ImageMetaHeaderRequest` messages (a
    no-op for other parsers, or a gunicorn without the per-header policy hook)."""
    if isinstance(parser, RequestParser) and hasattr(Request, "_apply_header_policy"):
        parser.mesg_class = ImageMetaHeaderRequest
