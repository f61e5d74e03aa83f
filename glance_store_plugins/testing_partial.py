"""Contract tests of ``Store.remove_partial``: what a write whose process died leaves behind.

Kept apart from :mod:`glance_store_plugins.testing` (the main kit) so that drivers can adopt it
on its own. Use it like the main kit, with the same ``store`` fixture and hooks::

    from glance_store_plugins.testing import StoreContract
    from glance_store_plugins.testing_partial import PartialWriteContract

    class TestMyStore(StoreContract, PartialWriteContract):
        @pytest.fixture
        def store(self, tmp_path): ...

The writer is a real process: a fork of the test process runs ``store.write`` with a source
that kills the process (SIGKILL) after ``partial_bytes`` bytes, in the middle of the write, as
``kill -9`` of an API worker would. ``remove_partial`` must then leave nothing behind (the
``leftovers`` hook: the driver's own ``leftovers()`` by default), must not touch finished data,
and must be safe to call again. Set ``partial_bytes`` above the size from which your driver
starts writing to the backend (the s3 driver's tests set it above the multipart threshold).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import InvalidInput


class PartialWriteContract:
    """``remove_partial`` behaviour; mix into a class that has a ``store`` fixture."""

    #: Bytes the killed writer hands to the driver before it dies.
    partial_bytes: int = 3 * 1024 * 1024
    #: Chunk size of the killed writer's source.
    partial_chunk: int = 256 * 1024

    def leftovers(self, store: Store) -> list[Any]:
        found = getattr(store, "leftovers", None)
        return list(found()) if callable(found) else []

    def _killed_write(self, store: Store, image_id: str) -> None:
        """``store.write(image_id, ...)`` in a child process that is SIGKILLed mid-write."""
        chunk = os.urandom(self.partial_chunk)

        def dying() -> Iterator[bytes]:
            sent = 0
            while sent < self.partial_bytes:
                sent += len(chunk)
                yield chunk
            os.kill(os.getpid(), signal.SIGKILL)
            yield chunk  # pragma: no cover - never reached

        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process
            try:
                store.write(image_id, dying(), size=self.partial_bytes * 4)
            finally:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            "the writer finished instead of dying mid-write: raise partial_bytes")

    def test_remove_partial_after_the_writer_was_killed(self, store: Store) -> None:
        if Capability.WRITE not in store.capabilities:
            assert store.remove_partial("contract-partial") == 0  # read-only: nothing to do
            return
        self._killed_write(store, "contract-partial")
        removed = store.remove_partial("contract-partial")
        assert removed >= 0
        assert self.leftovers(store) == []
        assert store.remove_partial("contract-partial") == 0

    def test_remove_partial_keeps_finished_data(self, store: Store) -> None:
        if Capability.WRITE not in store.capabilities:
            pytest.skip("backend lacks Capability.WRITE")
        data = os.urandom(100_000)
        url = store.write("contract-finished", iter([data])).url
        assert store.remove_partial("contract-finished") == 0
        assert store.read(url).read_all() == data

    def test_remove_partial_refuses_an_unsafe_id(self, store: Store) -> None:
        for bad in ("", "../x", "a/b"):
            with pytest.raises(InvalidInput):
                store.remove_partial(bad)
