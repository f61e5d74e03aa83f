"""Errors raised by glance_store_plugins and by every driver.

Drivers raise these classes (never bare ``OSError`` or a client library's exceptions when they
can tell what went wrong); the base class wraps anything else in :class:`BackendError`. Messages
are meant for operators and end users: they never contain credentials.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error of this package, carrying a human-readable message."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(StoreError):
    """No data exists at this location."""


class Duplicate(StoreError):
    """Data for this image id already exists in the backend."""


class InUse(StoreError):
    """The data cannot be deleted while something uses it (e.g. RBD clones of its snapshot)."""


class SizeLimitExceeded(StoreError):
    """The data is larger than ``max_size``; the partial write was removed."""


class CapabilityError(StoreError):
    """The backend cannot do this operation (e.g. writing to a read-only store)."""


class BackendError(StoreError):
    """The backend failed (I/O error, remote service error, truncated data...)."""


class InvalidLocation(StoreError):
    """A location URL is malformed, outside this backend, or refused (unsafe address)."""


class InvalidInput(StoreError):
    """An argument is malformed: bad image id, negative offset or length..."""


class InvalidRange(StoreError):
    """The requested byte range starts beyond the end of the data."""


class UnknownBackend(StoreError):
    """No configured backend has this name or holds this location."""


class ConfigError(StoreError):
    """A backend is misconfigured: unknown or invalid option, missing required option."""


class PluginLoadError(ConfigError):
    """A driver plugin is unknown, cannot be imported, or is not a ``Store`` subclass."""
