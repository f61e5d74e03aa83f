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

Tests needing a capability the backend lacks are skipped (e.g. write tests for a read-only
driver), except the capability refusal checks themselves.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    CapabilityError,
    Duplicate,
    InvalidInput,
    InvalidLocation,
    InvalidRange,
    NotFound,
    SizeLimitExceeded,
)
from glance_store_plugins.results import ReadStream


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
