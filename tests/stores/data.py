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


def file_system_supports_o_direct(directory: Path) -> bool:
    """Whether ``directory``'s file system accepts an ``O_DIRECT`` write, probed with plain
    ``os`` calls: the decision to skip a direct I/O test must not come from the code under test
    (if that code stopped using ``O_DIRECT``, its tests would skip instead of failing)."""
    import mmap

    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / ".o_direct_probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    except OSError:
        return False
    try:
        buffer = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
        try:
            os.write(fd, buffer)
        except OSError:
            return False
        finally:
            buffer.close()
        return True
    finally:
        os.close(fd)
        probe.unlink()
