"""``TaskExecutor`` implementations: a small thread pool, and inline execution for tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

LOG = logging.getLogger(__name__)


def _logged(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:  # the work records its own failure; never lose a traceback silently
        LOG.exception("background task failed")


class ThreadExecutor:
    """Runs submitted work on a pool of daemon-like worker threads (created lazily)."""

    def __init__(self, max_workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers,
                                        thread_name_prefix="glance-domain-task")

    def submit(self, work: Callable[[], None]) -> None:
        self._pool.submit(_logged, work)

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait``, return once running work is done."""
        self._pool.shutdown(wait=wait)


class InlineExecutor:
    """Runs work immediately in the caller's thread (deterministic unit tests)."""

    def submit(self, work: Callable[[], None]) -> None:
        _logged(work)
