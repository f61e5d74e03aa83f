"""Byte-stream helpers shared by the layers and the in-memory store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from glance_domain.errors import SizeLimitExceeded


def capped(chunks: Iterable[bytes], limit: int, message: str) -> Iterator[bytes]:
    """Yield ``chunks``, raising ``SizeLimitExceeded(message)`` as soon as more than ``limit``
    bytes went through (before the offending chunk is passed on)."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise SizeLimitExceeded(message)
        yield chunk
