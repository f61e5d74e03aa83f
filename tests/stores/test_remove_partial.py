"""``Store.remove_partial`` on every built-in driver, with a writer process killed mid-write
(the kit in ``glance_store_plugins/testing_partial.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_store_plugins import Store
from glance_store_plugins.drivers.filesystem import FileStore
from glance_store_plugins.drivers.memory import MemoryStore
from glance_store_plugins.drivers.s3 import S3Store
from glance_store_plugins.testing_partial import PartialWriteContract

from .httpserver import Site
from .test_http import _store as http_store
from .test_http import site  # noqa: F401 - the module-scoped HTTP server fixture
from .test_s3 import _options as s3_options


class TestFileStore(PartialWriteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return FileStore({"filesystem_store_datadir": str(tmp_path / "images")}, backend="files")

    def test_the_killed_write_left_a_partial_file(self, store: Store) -> None:
        self._killed_write(store, "killed")
        assert isinstance(store, FileStore)
        assert [n for n in store.leftovers() if n.startswith(".killed.")]
        assert store.remove_partial("other") == 0
        assert store.remove_partial("killed") == 1
        assert store.leftovers() == []


class TestMemoryStore(PartialWriteContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore(backend="mem")


class TestS3Store(PartialWriteContract):
    partial_bytes = 11 * 1024 * 1024  # past the 5 MiB multipart threshold: parts are stored

    @pytest.fixture
    def store(self, moto_endpoint: str) -> Store:
        return S3Store(s3_options(moto_endpoint), backend="objects")

    def test_the_killed_write_left_a_multipart_upload(self, store: Store) -> None:
        self._killed_write(store, "killed")
        assert isinstance(store, S3Store)
        assert store.leftovers() == ["killed"]
        assert store.remove_partial("killed") == 1
        assert store.leftovers() == []


class TestHttpStore(PartialWriteContract):
    """Read-only: nothing to remove, ever."""

    @pytest.fixture
    def store(self, site: Site) -> Store:  # noqa: F811 - the fixture above
        return http_store()
