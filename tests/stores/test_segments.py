"""Segmenter: cutting chunk streams into fixed-size segments (the swift driver's SLO writes)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from glance_store_plugins.drivers.segments import Segmenter


@given(st.lists(st.binary(max_size=50), max_size=30), st.integers(1, 40), st.integers(0, 60))
def test_segments_cover_the_data_in_order(chunks: list[bytes], limit: int, peek: int) -> None:
    data = b"".join(chunks)
    source = Segmenter(iter(chunks))
    source.peek(peek)
    assert min(peek, len(data)) <= source.buffered <= len(data)
    segments = []
    while source.more():
        segment = b"".join(source.take(limit))
        assert source.last_size == len(segment)
        segments.append(segment)
    assert b"".join(segments) == data
    assert all(len(s) == limit for s in segments[:-1])
    assert all(0 < len(s) <= limit for s in segments)


def test_take_all() -> None:
    source = Segmenter(iter([b"ab", b"", b"cde"]))
    source.peek(1)
    assert source.buffered == 2 and not source.ended
    assert b"".join(source.take(None)) == b"abcde"
    assert source.ended and not source.more()
