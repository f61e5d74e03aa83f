"""Location URL helpers shared by drivers: parsing and credential redaction."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from glance_store_plugins.errors import InvalidInput, InvalidLocation

_IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")


def split(url: str) -> SplitResult:
    """Parse a location URL or raise InvalidLocation (never echoing credentials)."""
    if not isinstance(url, str) or not url or "\x00" in url:
        raise InvalidLocation("invalid location URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise InvalidLocation(f"invalid location URL {redact(url)}") from None
    if not parts.scheme:
        raise InvalidLocation(f"location URL {redact(url)} has no scheme")
    return parts


def redact(url: str) -> str:
    """``url`` without any ``user:password@`` part, safe to show in messages and logs."""
    if not isinstance(url, str):
        return "<invalid>"
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}://{authority}{slash}{path}"


def check_image_id(image_id: str) -> str:
    """Refuse ids that could escape a directory or key prefix (``..``, ``/``, empty...)."""
    if not isinstance(image_id, str) or not _IMAGE_ID.fullmatch(image_id) or ".." in image_id:
        raise InvalidInput(f"invalid image id {image_id!r} for a store")
    return image_id
