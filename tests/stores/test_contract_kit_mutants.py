"""The contract kit is proven by mutation: it catches deliberately broken drivers.

The reference driver is the test-only ``chunked`` plugin (tests/plugins/chunked_store_plugin:
chunk files plus an index entry created last). It passes the whole kit; each variant below
breaks one promise of docs/plugins.md and must fail at least one kit test. The kit's tests are
run here directly (a fresh store in a fresh folder per test), so one pytest test reports, for
each variant, which kit tests caught it.
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chunked_store_plugin import ChunkedStore

from glance_store_plugins import BackendError, Duplicate, HashingChunks, NotFound, Store
from glance_store_plugins.testing import StoreContract


def _duplicate(image_id: str) -> Duplicate:
    return Duplicate(f"image {image_id} already exists")


class NoCleanup(ChunkedStore):
    """Leaves the chunks of a failed write behind, and does not report them."""

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        if os.path.exists(os.path.join(self.root, "index", image_id)):
            raise _duplicate(image_id)
        write_id = uuid.uuid4().hex
        blob = os.path.join(self.root, "blobs", write_id)
        os.mkdir(blob)
        self._write_parts(blob, chunks)  # an error here leaves blob behind
        return self._publish(image_id, write_id, blob)

    def _publish(self, image_id: str, write_id: str, blob: str) -> str:
        index = os.path.join(self.root, "index", image_id)
        try:
            with open(index, "x") as entry:
                entry.write(write_id)
        except FileExistsError:
            shutil.rmtree(blob)
            raise _duplicate(image_id) from None
        return f"chunked://{self.backend}/{image_id}"

    def leftovers(self) -> list[str]:
        return []


class OrphanOnDelete(ChunkedStore):
    """Removes the index entry but not the data."""

    def _delete(self, location: str) -> None:
        self._blob_dir(location)
        os.unlink(os.path.join(self.root, "index", self._image_id(location)))


class NonAtomicDuplicateCheck(ChunkedStore):
    """Checks for the id before writing, then overwrites the index entry at the end."""

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        index = os.path.join(self.root, "index", image_id)
        if os.path.exists(index):
            raise _duplicate(image_id)
        write_id = uuid.uuid4().hex
        blob = os.path.join(self.root, "blobs", write_id)
        os.mkdir(blob)
        try:
            self._write_parts(blob, chunks)
        except BaseException:
            shutil.rmtree(blob, ignore_errors=True)
            raise
        temp = os.path.join(self.root, "index", f".{write_id}.tmp")
        with open(temp, "x") as entry:
            entry.write(write_id)
        os.replace(temp, index)  # last writer wins
        return f"chunked://{self.backend}/{image_id}"


class PartialDataVisible(ChunkedStore):
    """Publishes the index entry first, then writes the chunks."""

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        write_id = uuid.uuid4().hex
        blob = os.path.join(self.root, "blobs", write_id)
        os.mkdir(blob)
        index = os.path.join(self.root, "index", image_id)
        try:
            with open(index, "x") as entry:
                entry.write(write_id)
        except FileExistsError:
            shutil.rmtree(blob)
            raise _duplicate(image_id) from None
        try:
            self._write_parts(blob, chunks)
        except BaseException:
            os.unlink(index)
            shutil.rmtree(blob, ignore_errors=True)
            raise
        return f"chunked://{self.backend}/{image_id}"


class WrongRangeClipping(ChunkedStore):
    """Starts a ranged read at the chunk holding the offset, not at the offset."""

    def _read_parts(self, blob: str, offset: int, length: int) -> Iterator[bytes]:
        first = offset // self.chunk_size
        left = length
        for name in self._parts(blob)[first:]:
            if left <= 0:
                return
            with open(os.path.join(blob, name), "rb") as part:
                data = part.read(left)
            left -= len(data)
            yield data


class SwallowedBackendErrors(ChunkedStore):
    """Reports an unreachable backend as missing data."""

    def _check_up(self) -> None:
        if not os.path.isdir(os.path.join(self.root, "index")):
            raise NotFound("no data")


class SecretInErrors(ChunkedStore):
    """Raises its own BackendError with the endpoint, credentials included."""

    def _unreachable(self, exc: OSError) -> ConnectionError:
        raise BackendError(f"backend {self.endpoint} unreachable: {exc.strerror}")


TOKEN = "kit-secret-token-9f2c"


class ChunkedContract(StoreContract):
    """The kit, with the hooks the chunked driver needs."""

    def make_unavailable(self, store: Store) -> None:
        root = store.root  # type: ignore[attr-defined]
        shutil.rmtree(root)
        Path(root).write_text("the backend is down")


def _make(cls: type[ChunkedStore], folder: str) -> Store:
    return cls({"chunked_store_root": folder, "chunked_store_chunk_size": 100_000,
                "chunked_store_token": TOKEN}, backend="parts")


def _run_kit(cls: type[ChunkedStore]) -> tuple[list[str], list[str], dict[str, str]]:
    """Run every kit test against ``cls``: (passed, skipped, {failed test: reason})."""
    kit = ChunkedContract()
    passed, skipped, failed = [], [], {}
    for name, method in inspect.getmembers(kit, inspect.ismethod):
        if not name.startswith("test_"):
            continue
        with tempfile.TemporaryDirectory() as folder:
            params = inspect.signature(method).parameters
            args: dict[str, object] = {"store": _make(cls, os.path.join(folder, "root"))}
            if "data" in params:
                args["data"] = os.urandom(kit.image_size)
            try:
                method(**args)
            except pytest.skip.Exception:
                skipped.append(name)
            except BaseException as exc:  # AssertionError, pytest.fail, a wrong exception...
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
            else:
                passed.append(name)
    return passed, skipped, failed


def test_reference_driver_passes_the_whole_kit() -> None:
    passed, skipped, failed = _run_kit(ChunkedStore)
    assert failed == {}
    assert skipped == ["test_file_read_is_positioned"]  # no FILE_READ capability
    assert {"test_concurrent_writes_to_one_id", "test_data_visible_only_when_complete",
            "test_backend_down_is_a_backend_error_without_secrets",
            "test_failed_write_leaves_the_backend_as_it_was",
            "test_delete_leaves_nothing_behind"} <= set(passed)


@pytest.mark.parametrize(
    ("mutant", "caught_by"),
    [(NoCleanup, "test_failed_write_leaves_the_backend_as_it_was"),
     (OrphanOnDelete, "test_delete_leaves_nothing_behind"),
     (NonAtomicDuplicateCheck, "test_concurrent_writes_to_one_id"),
     (PartialDataVisible, "test_data_visible_only_when_complete"),
     (WrongRangeClipping, "test_offsets_and_ranges"),
     (SwallowedBackendErrors, "test_backend_down_is_a_backend_error_without_secrets"),
     (SecretInErrors, "test_backend_down_is_a_backend_error_without_secrets")],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_broken_variant_fails_the_kit(mutant: type[ChunkedStore], caught_by: str) -> None:
    """Each variant fails at least one kit test: the one written for its flaw."""
    _passed, _skipped, failed = _run_kit(mutant)
    assert failed, f"{mutant.__name__} ({mutant.__doc__}) passes the whole contract kit"
    assert caught_by in failed, f"{caught_by} missed {mutant.__name__}; failed: {failed}"

