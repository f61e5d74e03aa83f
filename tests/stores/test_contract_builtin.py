"""The contract kit run against the built-in memory and file drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_store_plugins import Store
from glance_store_plugins.drivers.filesystem import FileStore
from glance_store_plugins.drivers.memory import MemoryStore
from glance_store_plugins.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore(backend="mem")


class TestFileStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        self.root = tmp_path / "images"
        return FileStore({"filesystem_store_datadir": str(self.root)}, backend="files")

    def backend_objects(self, store: Store) -> set[str]:
        """Every file under the data directory (temporary files included)."""
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()}


class TestFileStoreThinSeveralDirs(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return FileStore(
            {
                "filesystem_store_datadirs": [f"{tmp_path}/a:10", f"{tmp_path}/b:5"],
                "filesystem_thin_provisioning": True,
                "filesystem_store_chunk_size": 65536,
            },
            backend="thin",
            hashing_algorithm="sha256",
        )
