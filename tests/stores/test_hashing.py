"""HashingChunks: one-pass md5 + multihash on two worker threads, bounded, and cleaned up."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator

import pytest

from glance_store_plugins import SizeLimitExceeded
from glance_store_plugins.hashing import THREAD_THRESHOLD, HashingChunks
from tests.stores.data import pieces

MiB = 1 << 20


def _hash_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hash-")]


@pytest.mark.parametrize("threads", [True, False])
@pytest.mark.parametrize("sizes", [[100, 65533], [777, 4096], [MiB + 1], [3 * MiB, 5]])
def test_digests_match_hashlib(threads: bool, sizes: list[int]) -> None:
    data = os.urandom(THREAD_THRESHOLD + 7 * MiB + 3)
    chunks = HashingChunks(iter(pieces(data, sizes)), threads=threads, in_flight=2)
    assert b"".join(chunks) == data
    assert chunks.size == len(data)
    assert chunks.checksum == hashlib.md5(data).hexdigest()
    assert chunks.hash_value == hashlib.sha512(data).hexdigest()
    assert _hash_threads() == []


def test_workers_run_beside_the_caller_and_stop_at_the_end() -> None:
    seen: list[int] = []

    def source() -> Iterator[bytes]:
        for _ in range(12):
            seen.append(len(_hash_threads()))
            yield os.urandom(MiB)

    chunks = HashingChunks(source(), threads=True)
    for _ in chunks:
        pass
    assert max(seen) == 2  # md5 and sha512 each on its own thread once past the threshold
    assert _hash_threads() == []


def test_size_limit_stops_the_workers() -> None:
    chunks = HashingChunks(iter([os.urandom(MiB)] * 20), threads=True, max_size=10 * MiB)
    with pytest.raises(SizeLimitExceeded):
        for _ in chunks:
            pass
    assert _hash_threads() == []


def test_a_failing_source_stops_the_workers() -> None:
    def source() -> Iterator[bytes]:
        yield from [os.urandom(MiB)] * 8
        raise OSError("client went away")

    chunks = HashingChunks(source(), threads=True)
    with pytest.raises(OSError, match="went away"):
        for _ in chunks:
            pass
    chunks.close()
    assert chunks.source_error is not None
    assert _hash_threads() == []


def test_checksum_before_the_end_is_refused() -> None:
    chunks = HashingChunks(iter([b"abc"]))
    with pytest.raises(RuntimeError, match="not fully consumed"):
        _ = chunks.checksum


def test_a_closed_iterator_cannot_go_on() -> None:
    chunks = HashingChunks(iter([os.urandom(MiB)] * 12), threads=True)
    for _ in range(6):
        next(chunks)
    chunks.close()
    with pytest.raises(RuntimeError, match="closed"):
        next(chunks)
    assert _hash_threads() == []


def test_an_iterator_dropped_unfinished_stops_its_threads() -> None:
    import gc

    chunks = HashingChunks(iter([os.urandom(MiB)] * 12), threads=True)
    for _ in range(6):
        next(chunks)
    assert len(_hash_threads()) == 2
    del chunks
    gc.collect()
    assert _hash_threads() == []


def test_a_digest_worker_lags_at_most_in_flight_chunks() -> None:
    """``submit`` blocks once the worker is ``in_flight`` chunks behind (bounded memory)."""
    from glance_store_plugins.hashing import _DigestWorker

    gate = threading.Event()

    class SlowDigest:
        def update(self, chunk: bytes) -> None:
            gate.wait()

    worker = _DigestWorker.start(SlowDigest(), "slow", in_flight=3)
    assert worker is not None
    submitted: list[int] = []

    def feed() -> None:
        for i in range(10):
            worker.submit(b"x")
            submitted.append(i)

    feeder = threading.Thread(target=feed)
    feeder.start()
    feeder.join(0.5)
    assert len(submitted) == 3  # the 4th waits for the worker
    gate.set()
    feeder.join(10)
    assert len(submitted) == 10
    worker.finish()
