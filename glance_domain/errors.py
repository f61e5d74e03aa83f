"""Domain errors.

Every error the domain raises is a :class:`DomainError`. The WSGI edge maps each class to an HTTP
status in exactly one table (``glance_domain_adapters.wsgi.errors``); the CLI maps them to one-line
messages and exit codes. The domain never knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error raised by glance_domain, with a human-readable message."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The image, member, tag or location does not exist, or the caller may not see it."""


class Forbidden(DomainError):
    """The caller is not allowed to do this (policy, ownership, protected image...)."""


class PolicyDenied(Forbidden):
    """A policy rule refused the operation ("You are not authorized to complete <rule> action.").

    Kept apart from other refusals because Glance reports them differently: a controller that
    words its own 403 ("Not allowed to update tags for image X.") lets policy denials through.
    """

    def __init__(self, rule: str) -> None:
        super().__init__(f"You are not authorized to complete {rule} action.")
        self.rule = rule


class ReadOnlyAttribute(Forbidden):
    """An attempt to set an attribute only the service may set (status, checksum, size...)."""


class ReservedAttribute(Forbidden):
    """An attempt to set a reserved property (``os_glance_*`` or a core attribute name)."""


class ProtectedProperty(ReservedAttribute):
    """A property protection rule refuses to create, update or delete an extra property
    (Glance's ``ReservedProperty``: "Attribute 'x' is reserved.")."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Attribute '{name}' is reserved.")
        self.name = name


class InvalidInput(DomainError):
    """A value is malformed: wrong type, too long, not in the allowed set, bad UUID..."""


class SignatureVerificationFailed(InvalidInput):
    """Signed data (``img_signature*`` properties) whose signature cannot be checked or does
    not match (Glance: 400 ``Signature verification failed for image ...``)."""


class Conflict(DomainError):
    """The request conflicts with the current state (wrong status, concurrent change)."""


class Duplicate(Conflict):
    """An object with this identity already exists (image id, member, location)."""


class InvalidStatusTransition(Conflict):
    """The status machine forbids going from the current status to the requested one."""


class QuotaExceeded(DomainError):
    """A count or size quota would be exceeded (properties, tags, members, storage...)."""


class SizeLimitExceeded(QuotaExceeded):
    """Uploaded data is larger than the size cap or the remaining storage quota."""


class InvalidImageData(DomainError):
    """Uploaded bytes do not match the image's ``disk_format`` or fail its safety checks."""


class RangeNotSatisfiable(DomainError):
    """A requested byte range lies outside the image data."""


class StoreUnavailable(DomainError):
    """A store backend is unknown, broken, or cannot do the requested operation."""


class ServiceUnavailable(DomainError):
    """A dependency (the database, a store) cannot be reached right now; retry later."""
