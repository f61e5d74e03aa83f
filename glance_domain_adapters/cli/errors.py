"""How failures are shown on the command line: one line on stderr and an exit code.

``describe`` maps each ``glance_domain.errors`` class (and the few non-domain failures a command can
meet: unreadable files, bad configuration) to a short prefix, so a person sees *what kind* of
failure it was without a traceback. Exit codes: 2 for bad usage (as argparse), 1 for everything a
well-formed command can run into.
"""

from __future__ import annotations

import re

from glance_domain import errors

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: The CLI's one wording for a missing image, whatever the command (``{ref}``: what the user
#: typed). The domain keeps Glance's texts, which differ by API call.
NOT_FOUND = "Not found: no image with name or ID '{ref}'"
_DOMAIN_IMAGE_NOT_FOUND = re.compile(
    r"^(?:No image found with ID (?P<a>\S+)|Image (?P<b>\S+) not found\.)$"
)
#: The format check's text (Glance's), explained on the command line.
_FORMAT_MISMATCH = re.compile(
    r"^Image disk_format (?P<declared>\S+) does not match stream data (?P<found>\S+)$"
)


class CliError(Exception):
    """A failure the CLI itself detects (missing --file, nothing to read...), with an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


#: Most specific first: the first class the error is an instance of gives the prefix.
_DOMAIN_PREFIXES: tuple[tuple[type[errors.DomainError], str], ...] = (
    (errors.ReadOnlyAttribute, "Forbidden (read-only attribute)"),
    (errors.ProtectedProperty, "Forbidden (protected property)"),
    (errors.ReservedAttribute, "Forbidden (reserved attribute)"),
    (errors.Forbidden, "Forbidden"),
    (errors.NotFound, "Not found"),
    (errors.InvalidInput, "Invalid input"),
    (errors.Duplicate, "Conflict (duplicate)"),
    (errors.InvalidStatusTransition, "Conflict (invalid status transition)"),
    (errors.Conflict, "Conflict"),
    (errors.SizeLimitExceeded, "Size limit exceeded"),
    (errors.QuotaExceeded, "Quota exceeded"),
    (errors.RangeNotSatisfiable, "Range not satisfiable"),
    (errors.InvalidImageData, "Invalid image data"),
    (errors.StoreUnavailable, "Store unavailable"),
    (errors.ServiceUnavailable, "Service unavailable"),
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for ``exc``."""
    if isinstance(exc, CliError):
        return _one_line(exc.message), exc.exit_code
    if type(exc).__name__ == "DatabaseNotMigrated":  # glance_domain_adapters.db.errors
        return _one_line(str(exc)), EXIT_FAILURE
    if isinstance(exc, errors.DomainError):
        explained = _explain(exc)
        if explained is not None:
            return explained, EXIT_FAILURE
        prefix = next((p for cls, p in _DOMAIN_PREFIXES if isinstance(exc, cls)), "Error")
        detail = _one_line(str(exc))
        if isinstance(exc, errors.ServiceUnavailable):
            detail += (" (check that the database and stores are reachable; a new database "
                       "needs 'glance-domain db upgrade')")
        return (f"{prefix}: {detail}" if detail else prefix), EXIT_FAILURE
    if isinstance(exc, OSError):
        where = f" {exc.filename!r}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        return _one_line(f"{reason}{where}"), EXIT_FAILURE
    try:
        from oslo_config import cfg
    except ImportError:  # pragma: no cover - oslo.config is a hard dependency
        cfg = None  # type: ignore[assignment]
    if cfg is not None and isinstance(exc, cfg.Error):
        return _one_line(f"Configuration error: {exc}"), EXIT_USAGE
    name = type(exc).__name__
    detail = _one_line(str(exc))
    return (f"Unexpected error ({name}): {detail}" if detail else f"Unexpected error ({name})",
            EXIT_FAILURE)


def _explain(exc: errors.DomainError) -> str | None:
    """The CLI's own message for domain errors a person needs more than Glance's text for."""
    text = _one_line(str(exc))
    if isinstance(exc, errors.NotFound):
        match = _DOMAIN_IMAGE_NOT_FOUND.match(text)
        return None if match is None else NOT_FOUND.format(ref=match["a"] or match["b"])
    if isinstance(exc, errors.InvalidImageData):
        match = _FORMAT_MISMATCH.match(text)
        if match is not None:
            declared, found = match["declared"], match["found"]
            return (f"Invalid image data: the data is not a {declared} image (it looks like "
                    f"{found}); pass --disk-format {found} if that is what it is, or upload "
                    f"a real {declared} file")
    return None
