"""What a store backend can do, as an :class:`enum.Flag`."""

from __future__ import annotations

import enum


class Capability(enum.Flag):
    """Operations a backend supports; the base class refuses the others.

    ``FILE_READ`` means reads may expose an open local file (for ``wsgi.file_wrapper``/sendfile;
    ``ReadStream.file`` is None for a read the driver chose to serve as chunks).
    """

    NONE = 0
    READ = enum.auto()
    WRITE = enum.auto()
    DELETE = enum.auto()
    RANGE_READ = enum.auto()
    FILE_READ = enum.auto()
    THIN_PROVISIONING = enum.auto()

    READ_ONLY = READ | RANGE_READ
    READ_WRITE = READ | WRITE | DELETE | RANGE_READ
