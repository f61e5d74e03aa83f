"""Contract test kit: the behaviour every store driver must have, as a pytest base class.

A plugin author subclasses :class:`StoreContract` in a test module, provides a ``store`` fixture
returning a fresh backend, and runs pytest::

    import pytest
    from glance_store_plugins.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore({"my_store_root": str(tmp_path)}, backend="mine")

Optional hooks refine the checks:

``seed(store, image_id, data) -> url``
    Put data in the backend (default: ``store.write``). Read-only drivers override it.
``missing_location(store) -> url``
    A location in the backend where no data exists (default: seed, then delete).
``leftovers(store) -> list``
    Anything an unfinished write left behind (temporary files, parts...). Default: the store's
    own ``leftovers()`` if it has one, else ``[]``.
``backend_objects(store) -> set | None``
    Everything the backend holds, as the backend itself lists it (every file under the root,
    every key of the bucket...), independent of the driver's own bookkeeping. Default: the
    store's own ``backend_objects()`` if it has one, else None, which skips the checks that a
    failed write and a delete leave the backend as it was (and that ``leftovers`` is honest).
``make_unavailable(store)``
    Make the backend unreachable (stop the server, remove the root...). Default: skip the
    "backend down" checks. ``secrets(store)`` lists the values that must never appear in an
    error (default: the values of the driver's ``secret`` options).

Tests needing a capability the backend lacks are skipped (e.g. write tests for a read-only
driver), except the capability refusal checks themselves.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    CapabilityError,
    Duplicate,
    InvalidInput,
    InvalidLocation,
    InvalidRange,
    NotFound,
    SizeLimitExceeded,
)
from glance_store_plugins.results import ReadStream, WriteResult


class SourceFailed(Exception):
    """Raised by a test's data source in the middle of a write."""


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for pos in range(0, len(data), size):
        yield data[pos:pos + size]


def _read(stream: ReadStream) -> bytes:
    return stream.read_all()


class StoreContract:
    """Behaviour every driver must show. Subclass as ``Test...`` and define a ``store`` fixture."""

    #: Size of the main test image: several write chunks, large enough to hash on threads.
    image_size: int = 5 * 1024 * 1024 + 123

    # -- hooks ----------------------------------------------------------------------------------
    def seed(self, store: Store, image_id: str, data: bytes) -> str:
        return store.write(image_id, _chunks(data, 256 * 1024)).url

    def leftovers(self, store: Store) -> list[Any]:
        found = getattr(store, "leftovers", None)
        return list(found()) if callable(found) else []

    def backend_objects(self, store: Store) -> set[Any] | None:
        found = getattr(store, "backend_objects", None)
        return set(found()) if callable(found) else None

    def make_unavailable(self, store: Store) -> None:
        pytest.skip("override make_unavailable(store) to check errors of a backend that is down")

    def secrets(self, store: Store) -> list[str]:
        specs = type(store).options
        return [str(v) for k, v in store.conf.items() if k in specs and specs[k].secret and v]

    # -- helpers --------------------------------------------------------------------------------
    @pytest.fixture
    def data(self) -> bytes:
        return os.urandom(self.image_size)

    def _need(self, store: Store, capability: Capability) -> None:
        if capability & ~store.capabilities:
            pytest.skip(f"backend lacks {capability}")

    def missing_location(self, store: Store) -> str:
        """A location of this backend that holds no data (hook; see the module docs)."""
        url = self.seed(store, "contract-missing", b"gone")
        if Capability.DELETE in store.capabilities:
            store.delete(url)
            return url
        pytest.skip("cannot make a missing location without DELETE; override missing_location")
        raise AssertionError  # pragma: no cover

    # -- round trip -----------------------------------------------------------------------------
    def test_declares_read(self, store: Store) -> None:
        assert Capability.READ in store.capabilities
        assert store.driver_name

    def test_write_reports_hashes_and_size(self, store: Store, data: bytes) -> None:
        self._need(store, Capability.WRITE)
        result = store.write("contract-1", _chunks(data, 300_000), size=len(data))
        assert result.size == len(data)
        assert result.checksum == hashlib.md5(data).hexdigest()
        assert result.hash_algo == store.hashing_algorithm
        assert result.hash_value == hashlib.new(store.hashing_algorithm, data).hexdigest()
        assert result.backend == store.backend
        assert result.metadata.get("store") == store.backend
        assert store.owns(result.url)
        assert store.size(result.url) == len(data)
        assert _read(store.read(result.url)) == data

    def test_round_trip_without_size_and_tiny_chunks(self, store: Store) -> None:
        self._need(store, Capability.WRITE)
        data = os.urandom(70_000)
        result = store.write("contract-tiny", _chunks(data, 7))
        assert result.size == len(data)
        assert result.checksum == hashlib.md5(data).hexdigest()
        assert _read(store.read(result.url)) == data

    def test_empty_image(self, store: Store) -> None:
        self._need(store, Capability.WRITE)
        result = store.write("contract-empty", iter(()))
        assert result.size == 0
        assert result.checksum == hashlib.md5(b"").hexdigest()
        assert _read(store.read(result.url)) == b""

    def test_read_streams_in_chunks(self, store: Store, data: bytes) -> None:
        url = self.seed(store, "contract-chunks", data)
        stream = store.read(url)
        assert stream.length == len(data)
        sizes = [len(chunk) for chunk in stream]
        stream.close()
        assert sum(sizes) == len(data)
        assert len(sizes) > 1, "the whole image was returned as one chunk"

    def test_location_shows_no_credentials(self, store: Store) -> None:
        url = self.seed(store, "contract-url", b"abc")
        assert "@" not in urlsplit(url).netloc
        assert store.redact(url) == url

    # -- offsets and ranges -----------------------------------------------------------------------
    def test_offsets_and_ranges(self, store: Store, data: bytes) -> None:
        self._need(store, Capability.RANGE_READ)
        url = self.seed(store, "contract-range", data)
        assert _read(store.read(url, offset=1000)) == data[1000:]
        assert _read(store.read(url, offset=1_500_000, length=2_000_000)) == data[
            1_500_000:3_500_000
        ]
        stream = store.read(url, offset=len(data) - 10, length=100)
        assert stream.length == 10
        assert _read(stream) == data[-10:]
        assert _read(store.read(url, offset=len(data))) == b""
        assert _read(store.read(url, offset=5, length=0)) == b""
        with pytest.raises(InvalidRange):
            store.read(url, offset=len(data) + 1)
        with pytest.raises(InvalidInput):
            store.read(url, offset=-1)

    def test_file_read_is_positioned(self, store: Store, data: bytes) -> None:
        self._need(store, Capability.FILE_READ)
        url = self.seed(store, "contract-file", data)
        with store.read(url, offset=4096, length=10) as stream:
            assert stream.file is not None
            assert stream.file.read(10) == data[4096:4106]

    def test_range_refused_without_capability(self, store: Store) -> None:
        url = self.seed(store, "contract-norange", b"0123456789")
        store.capabilities = store.capabilities & ~Capability.RANGE_READ
        with pytest.raises(CapabilityError):
            store.read(url, offset=2)
        assert _read(store.read(url)) == b"0123456789"

    # -- limits and failures ----------------------------------------------------------------------
    def test_size_limit_aborts_and_leaves_nothing(self, store: Store, data: bytes) -> None:
        self._need(store, Capability.WRITE)
        with pytest.raises(SizeLimitExceeded):
            store.write("contract-big", _chunks(data, 512 * 1024), max_size=len(data) - 1)
        assert self.leftovers(store) == []
        result = store.write("contract-big", _chunks(data, 512 * 1024), max_size=len(data))
        assert result.size == len(data)

    def test_announced_size_over_limit_is_refused_early(self, store: Store) -> None:
        self._need(store, Capability.WRITE)
        with pytest.raises(SizeLimitExceeded):
            store.write("contract-announced", iter([b"x"]), size=10, max_size=5)

    def test_failure_mid_write_leaves_nothing(self, store: Store, data: bytes) -> None:
        self._need(store, Capability.WRITE)

        def failing() -> Iterator[bytes]:
            yield from _chunks(data[: 3 * 1024 * 1024], 1024 * 1024)
            raise SourceFailed("client went away")

        with pytest.raises(SourceFailed):
            store.write("contract-fail", failing())
        assert self.leftovers(store) == []
        result = store.write("contract-fail", _chunks(data, 1024 * 1024))
        assert _read(store.read(result.url)) == data

    def test_duplicate_is_refused(self, store: Store) -> None:
        self._need(store, Capability.WRITE)
        first = store.write("contract-dup", iter([b"first"]))
        with pytest.raises(Duplicate):
            store.write("contract-dup", iter([b"second"]))
        assert _read(store.read(first.url)) == b"first"
        assert self.leftovers(store) == []

    def test_bad_image_ids_are_refused(self, store: Store) -> None:
        self._need(store, Capability.WRITE)
        for bad in ("", "../escape", "a/b", ".hidden", "x" * 300):
            with pytest.raises(InvalidInput):
                store.write(bad, iter([b"x"]))

    # -- missing data and deletion ----------------------------------------------------------------
    def test_missing_object(self, store: Store) -> None:
        url = self.missing_location(store)
        with pytest.raises(NotFound):
            store.read(url)
        with pytest.raises(NotFound):
            store.size(url)

    def test_delete(self, store: Store) -> None:
        self._need(store, Capability.DELETE)
        url = self.seed(store, "contract-del", b"bye")
        store.delete(url)
        with pytest.raises(NotFound):
            store.read(url)
        with pytest.raises(NotFound):
            store.delete(url)

    def test_foreign_location_is_refused(self, store: Store) -> None:
        with pytest.raises(InvalidLocation):
            store.read("nosuchscheme://somewhere/else")
        assert not store.owns("nosuchscheme://somewhere/else")

    # -- capabilities -----------------------------------------------------------------------------
    def test_capability_refusal(self, store: Store) -> None:
        url = self.seed(store, "contract-cap", b"keep")
        store.capabilities = Capability.READ
        with pytest.raises(CapabilityError):
            store.write("contract-cap2", iter([b"x"]))
        with pytest.raises(CapabilityError):
            store.delete(url)
        assert store.read_only

    # -- integrity: concurrency, visibility, failures, leftovers ----------------------------------
    def _objects(self, store: Store) -> set[Any]:
        found = self.backend_objects(store)
        if found is None:
            pytest.skip("override backend_objects(store) to check what the backend holds")
        return found

    def _visible(self, store: Store, url: str) -> bool:
        try:
            store.size(url)
        except NotFound:
            return False
        return True

    def _vacant_url(self, store: Store, image_id: str) -> str:
        """The location ``image_id`` gets, learnt by writing and deleting it once."""
        self._need(store, Capability.WRITE | Capability.DELETE)
        url = store.write(image_id, iter([b"probe"])).url
        store.delete(url)
        return url

    def test_concurrent_writes_to_one_id(self, store: Store) -> None:
        """Two writes of one id at once: exactly one wins, the other gets Duplicate, and the
        stored data is the winner's, whole."""
        self._need(store, Capability.WRITE)
        both_started = threading.Barrier(2)
        outcome: dict[int, object] = {}

        def source(fill: int) -> Iterator[bytes]:
            try:
                both_started.wait(timeout=2)  # both writes past their duplicate checks
            except threading.BrokenBarrierError:
                pass  # the other write was refused before reading its data
            for _ in range(16):
                yield bytes([fill]) * 65536

        def run(fill: int) -> None:
            try:
                outcome[fill] = store.write("contract-race", source(fill))
            except Exception as exc:  # reported below
                outcome[fill] = exc

        threads = [threading.Thread(target=run, args=(fill,)) for fill in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = {f: r for f, r in outcome.items() if isinstance(r, WriteResult)}
        losers = [r for r in outcome.values() if isinstance(r, Duplicate)]
        assert len(winners) == 1 and len(losers) == 1, (
            f"expected one write and one Duplicate: {outcome}")
        ((fill, result),) = winners.items()
        assert _read(store.read(result.url)) == bytes([fill]) * 65536 * 16
        assert self.leftovers(store) == []

    def test_data_visible_only_when_complete(self, store: Store) -> None:
        """While a write runs, and after it failed, its location holds nothing."""
        url = self._vacant_url(store, "contract-visible")
        seen: list[bool] = []

        def source(fail: bool) -> Iterator[bytes]:
            yield os.urandom(300_000)
            seen.append(self._visible(store, url))
            yield os.urandom(300_000)
            if fail:
                raise SourceFailed("client went away")

        with pytest.raises(SourceFailed):
            store.write("contract-visible", source(True))
        assert not self._visible(store, url), "a failed write left readable data"
        result = store.write("contract-visible", source(False))
        assert result.url == url
        assert seen == [False, False], "data was visible before the write completed"
        assert store.size(url) == 600_000

    def test_backend_down_is_a_backend_error_without_secrets(self, store: Store) -> None:
        url = self.seed(store, "contract-down", b"data")
        self.make_unavailable(store)
        operations: list[tuple[str, Callable[[], object]]] = [
            ("read", lambda: _read(store.read(url))), ("size", lambda: store.size(url))]
        if Capability.WRITE in store.capabilities:
            operations.append(("write", lambda: store.write("contract-down2", iter([b"x"]))))
        if Capability.DELETE in store.capabilities:
            operations.append(("delete", lambda: store.delete(url)))
        for name, operation in operations:
            with pytest.raises(BackendError) as info:
                operation()
            shown = []
            error: BaseException | None = info.value
            while error is not None:
                shown.append(f"{error} {error!r}")
                error = error.__cause__ or (None if error.__suppress_context__
                                            else error.__context__)
            for secret in self.secrets(store):
                assert secret not in " ".join(shown), f"{name}: the error shows a secret"

    def test_failed_write_leaves_the_backend_as_it_was(self, store: Store, data: bytes) -> None:
        """After a failed write the backend holds what it held before, and while the write
        ran, ``leftovers`` reported what it had stored (the hook is honest)."""
        self._need(store, Capability.WRITE)
        before = self._objects(store)
        during: dict[str, Any] = {}

        def failing() -> Iterator[bytes]:
            yield from _chunks(data[: 3 * 1024 * 1024], 256 * 1024)
            during["objects"] = self._objects(store)
            during["leftovers"] = self.leftovers(store)
            yield data[3 * 1024 * 1024: 3 * 1024 * 1024 + 1024]
            raise SourceFailed("client went away")

        with pytest.raises(SourceFailed):
            store.write("contract-honest", failing())
        if during["objects"] - before:
            assert during["leftovers"], (
                "the unfinished write had stored data that leftovers() did not report")
        assert self._objects(store) == before, "the failed write left data in the backend"
        assert self.leftovers(store) == []

    def test_delete_leaves_nothing_behind(self, store: Store) -> None:
        self._need(store, Capability.WRITE | Capability.DELETE)
        before = self._objects(store)
        url = store.write("contract-orphan", _chunks(os.urandom(300_000), 65536)).url
        store.delete(url)
        assert self._objects(store) == before, "delete left the image's data in the backend"
