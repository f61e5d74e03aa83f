"""Cutting a stream of chunks into segments of a given size (the swift driver's large objects)
without copying the whole stream into memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator


class Segmenter:
    """Cuts a stream of chunks into pieces of a given size, holding only the chunks
    :meth:`peek` buffered (and at most one more) in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._source = chunks
        self._parts: deque[bytes] = deque()
        self._buffered = 0
        self.ended = False
        self.last_size = 0

    def _pull(self) -> bool:
        chunk = next(self._source, None)
        if chunk is None:
            self.ended = True
            return False
        if chunk:
            self._parts.append(chunk)
            self._buffered += len(chunk)
        return True

    @property
    def buffered(self) -> int:
        return self._buffered

    def peek(self, count: int) -> None:
        """Buffer up to ``count`` bytes (``ended`` tells whether the data ended before)."""
        while self._buffered < count and self._pull():
            pass

    def more(self) -> bool:
        """Whether any data is left."""
        while not self._parts:
            if not self._pull():
                return False
        return True

    def take(self, limit: int | None) -> Iterator[bytes]:
        """The next ``limit`` bytes (all that is left if None), as a generator of chunks;
        ``last_size`` is the count once it is exhausted."""
        self.last_size = 0
        while limit is None or self.last_size < limit:
            if not self.more():
                return
            piece = self._parts.popleft()
            room = len(piece) if limit is None else limit - self.last_size
            if len(piece) > room:
                self._parts.appendleft(piece[room:])
                piece = piece[:room]
            self._buffered -= len(piece)
            self.last_size += len(piece)
            yield piece
