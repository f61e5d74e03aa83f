"""Helpers of the store tests: cutting data into chunks, asking the page cache about a file."""

from __future__ import annotations

import os
from pathlib import Path

from glance_store_plugins.drivers import direct_io


def pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into chunks whose sizes cycle through ``sizes``."""
    out, start, turn = [], 0, 0
    while start < len(data):
        size = sizes[turn % len(sizes)]
        out.append(data[start:start + size])
        start += size
        turn += 1
    return out


def in_page_cache(path: Path) -> bool:
    """Whether the whole file at ``path`` is in the page cache (the driver's own check)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return direct_io.is_cached(fd, 0, os.fstat(fd).st_size)
    finally:
        os.close(fd)
