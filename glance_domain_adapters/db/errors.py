"""Translating database driver failures into domain errors.

The domain must never see a raw driver traceback: a server that cannot be reached (refused,
timed out, connection dropped mid-request, pool exhausted) becomes ``ServiceUnavailable``; a
deadlock or serialization failure is retried by :func:`retry_on_deadlock` and, when it persists,
becomes ``Conflict``; a value the database cannot store (too long, out of range) becomes
``InvalidInput``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from glance_domain import errors

LOG = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: MySQL/MariaDB: deadlock, lock wait timeout; PostgreSQL: serialization failure, deadlock.
_DEADLOCK_CODES = {1213, 1205}
_DEADLOCK_SQLSTATES = {"40001", "40P01"}


def is_deadlock(exc: BaseException) -> bool:
    """True for errors a retry of the whole transaction can fix."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    orig = exc.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _DEADLOCK_CODES:
        return True
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return sqlstate in _DEADLOCK_SQLSTATES


@contextmanager
def translated() -> Iterator[None]:
    """Turn connection-level failures raised inside the block into ``ServiceUnavailable``."""
    try:
        yield
    except errors.DomainError:
        raise
    except sa_exc.IntegrityError:
        raise  # callers translate constraint violations themselves
    except UnicodeEncodeError as exc:
        # text that is not valid Unicode (a lone surrogate, e.g. from a command-line argument
        # decoded with surrogateescape): the API refuses it at the edge, this is the backstop
        # for every other caller
        LOG.info("database rejected a value: %s", exc)
        raise errors.InvalidInput("A value is not valid Unicode text.") from None
    except OverflowError as exc:  # SQLite: an integer wider than 64 bits
        LOG.info("database rejected a value: %s", exc)
        raise errors.InvalidInput(
            "A value is too long or out of range for the image database."
        ) from None
    except sa_exc.DataError as exc:
        # A value the column cannot hold (too long, out of range) that validation let through.
        LOG.info("database rejected a value: %s", exc.orig)
        raise errors.InvalidInput(
            "A value is too long or out of range for the image database."
        ) from None
    except sa_exc.DBAPIError as exc:
        if is_deadlock(exc):
            raise
        if exc.connection_invalidated or isinstance(
            exc, (sa_exc.OperationalError, sa_exc.InterfaceError)
        ):
            LOG.warning("database unavailable: %s", exc.orig)
            raise errors.ServiceUnavailable(
                "The image database is unavailable, please retry later."
            ) from None
        raise
    except (sa_exc.TimeoutError, sa_exc.DisconnectionError) as exc:
        LOG.warning("database unavailable: %s", exc)
        raise errors.ServiceUnavailable(
            "The image database is unavailable, please retry later."
        ) from None


def retry_on_deadlock(attempts: int = 4) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Run a transactional function again when the database reports a deadlock."""

    def decorate(func: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(attempts):
                try:
                    with translated():
                        return func(*args, **kwargs)
                except sa_exc.DBAPIError as exc:
                    if not is_deadlock(exc):
                        raise
                    LOG.info("deadlock in %s, retrying (%d)", func.__name__, attempt + 1)
                    time.sleep(0.01 * (attempt + 1))
            raise errors.Conflict("The image was changed concurrently, please retry.")

        return wrapper

    return decorate
