"""Direct I/O for the ``file`` driver: writes and cold reads that bypass the page cache.

Why (measured on the 2-CPU VM of docs/benchmarks.md, "Stores"): the first time the CPU touches
a page of guest memory the hypervisor must map it, about 10 us a page. A buffered write of a
new 512 MiB image copies it into ~131,000 fresh page-cache pages and spent 1.5-1.8 s of kernel
time doing so, more than md5 or sha512 of the same data. With ``O_DIRECT`` the disk reads the
data straight out of one reused, already-mapped buffer: 0.1-0.2 s of kernel time. A download
of a file that is not in the page cache is the same cost the other way round (sendfile makes
the client's ``recv`` touch every fresh page: ~480 MB/s); reading it with ``O_DIRECT`` into a
reused buffer runs at disk speed instead.

The pieces:

* :class:`DirectWriter` - sequential ``O_DIRECT`` writes of a new file through one page-aligned
  buffer; the unaligned tail (and everything, where the file system refuses ``O_DIRECT``) is
  written the ordinary way.
* :func:`is_cached` - whether a byte range is in the page cache (``mincore``).
* :class:`DirectChunks` - a cold file read with ``O_DIRECT`` as ``bytes`` chunks, several
  reads ahead.

After a direct write the file is not in the page cache:
:mod:`~glance_store_plugins.drivers.cache_warmer` has it read in later, once no upload runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

#: Offsets, lengths and buffer addresses of ``O_DIRECT`` I/O are multiples of this (the page
#: size; covers disks with 512-byte and 4 KiB logical blocks).
ALIGN = 4096
#: Size of the aligned write buffer: one ``write()`` each time it fills.
WRITE_BUFFER = 1 << 20
#: Size of each ``O_DIRECT`` read (and of the chunks a cold read yields).
READ_CHUNK = 2 << 20
#: Reads in flight during a cold read (threads) and chunks read ahead (buffers): each cold
#: download holds READERS threads and READ_DEPTH x READ_CHUNK (12 MiB) of buffers while it runs.
READERS = 3
READ_DEPTH = 6
#: Reads shorter than this are not worth a cache probe: they use the ordinary file.
DIRECT_READ_MIN = 4 << 20
#: errnos meaning "no O_DIRECT here" (file system or file type refuses it).
_REFUSED = frozenset({errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP})


def _set_direct(fd: int, on: bool) -> bool:
    """Turn ``O_DIRECT`` on or off for ``fd``; False if the system refuses."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    wanted = flags | os.O_DIRECT if on else flags & ~os.O_DIRECT
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, wanted)
    except OSError as exc:
        if exc.errno in _REFUSED:
            return False
        raise
    return True


class DirectWriter:
    """Writes a new file from the start with ``O_DIRECT``, through one aligned buffer.

    ``write`` copies each chunk into the buffer and writes it out whenever it is full;
    ``finish`` writes what is left (its aligned part directly, the last partial block with
    ``O_DIRECT`` off). If the file system refuses ``O_DIRECT`` (when it is switched on or at any
    write), the writer silently writes ordinarily instead: a refused ``O_DIRECT`` write writes
    nothing, so the same bytes are simply written again. ``direct`` says which way the data
    goes now and ``direct_bytes`` how much went with ``O_DIRECT``; ``close`` releases the buffer
    (and never raises, so it cannot hide the write's own error).
    """

    def __init__(self, fd: int, buffer_size: int = WRITE_BUFFER) -> None:
        if buffer_size <= 0 or buffer_size % ALIGN:
            raise ValueError(f"buffer size must be a positive multiple of {ALIGN}")
        self.fd = fd
        self.direct = _set_direct(fd, True)
        self._buffer = mmap.mmap(-1, buffer_size)  # page-aligned, reused for the whole file
        self._fill = 0
        self.direct_bytes = 0

    def write(self, chunk: bytes) -> None:
        size = len(self._buffer)
        taken = 0
        with memoryview(chunk) as view, memoryview(self._buffer) as buffer:
            while taken < len(view):
                take = min(len(view) - taken, size - self._fill)
                buffer[self._fill:self._fill + take] = view[taken:taken + take]
                self._fill += take
                taken += take
                if self._fill == size:
                    self._flush(size)

    def finish(self) -> None:
        """Write whatever the buffer still holds (the file's last, partial buffer)."""
        aligned = self._fill - self._fill % ALIGN
        if aligned:
            self._flush(aligned)
        if self._fill:
            if self.direct:  # the tail is not aligned
                _set_direct(self.fd, False)
                self.direct = False
            self._flush(self._fill)

    def close(self) -> None:
        with contextlib.suppress(BufferError):
            self._buffer.close()

    def _flush(self, length: int) -> None:
        """Write the first ``length`` bytes of the buffer; keep the rest at its start."""
        done = 0
        with memoryview(self._buffer) as buffer:
            while done < length:
                try:
                    with buffer[done:length] as piece:
                        written = os.write(self.fd, piece)
                except OSError as exc:
                    if not self.direct or exc.errno not in _REFUSED:
                        raise
                    # O_DIRECT accepted when switched on, refused by the write: nothing was
                    # written, write the same bytes ordinarily
                    _set_direct(self.fd, False)
                    self.direct = False
                    continue
                if self.direct:
                    self.direct_bytes += written
                done += written
                if done < length and self.direct:
                    # a short write leaves the file offset unaligned: go on without O_DIRECT
                    _set_direct(self.fd, False)
                    self.direct = False
            rest = self._fill - length
            if rest:
                buffer[:rest] = buffer[length:self._fill]
        self._fill = rest


def _load_libc() -> tuple[Any, Any, Any] | None:
    """libc's ``mmap``, ``munmap`` and ``mincore`` (``os`` and ``mmap`` offer no ``mincore``)."""
    if ctypes.sizeof(ctypes.c_void_p) < 8:  # pragma: no cover - 32-bit: off_t may be 32 bits
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        mmap_, munmap, mincore = libc.mmap, libc.munmap, libc.mincore
    except (OSError, AttributeError):  # pragma: no cover - not a Linux/BSD libc
        return None
    mmap_.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int64)
    mmap_.restype = ctypes.c_void_p
    munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    munmap.restype = ctypes.c_int
    mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    mincore.restype = ctypes.c_int
    return mmap_, munmap, mincore


_LIBC = _load_libc()
_MAP_FAILED = ctypes.c_void_p(-1).value
#: ``is_cached`` looks at this many evenly spread windows of ``_WINDOW_PAGES`` pages each (and
#: so at most ~4 MiB of pages, whatever the size of the range).
_WINDOWS = 64
_WINDOW_PAGES = 16


def is_cached(fd: int, offset: int, length: int) -> bool:
    """Whether ``length`` bytes from ``offset`` are in the page cache.

    Asked with ``mincore`` on a read-only mapping of the range, which reads nothing and starts
    no readahead (a ``RWF_NOWAIT`` probe read does start readahead around the probe, so
    probing would itself warm the file piece by piece). Ranges of more than 64 x 16 pages are
    judged by 64 evenly spread windows of 16 pages, first and last page included, so the cost
    does not grow with the image. Where the answer cannot be had, True: the caller then reads
    the ordinary way.
    """
    if length <= 0 or _LIBC is None:
        return True
    mmap_, munmap, mincore = _LIBC
    page = mmap.PAGESIZE
    start = offset - offset % page
    span = offset + length - start
    address = mmap_(None, span, mmap.PROT_READ, mmap.MAP_SHARED, fd, start)
    if address is None or address == _MAP_FAILED:
        return True
    try:
        pages = (span + page - 1) // page
        if pages <= _WINDOWS * _WINDOW_PAGES:
            windows = [(0, pages)]
        else:
            last = pages - _WINDOW_PAGES
            windows = [(last * i // (_WINDOWS - 1), _WINDOW_PAGES) for i in range(_WINDOWS)]
        vector = (ctypes.c_ubyte * min(pages, _WINDOW_PAGES * _WINDOWS))()
        for first, count in windows:
            if mincore(address + first * page, count * page, vector) != 0:
                return True
            if b"\x00" in bytes(vector)[:count]:  # Linux sets only bit 0: resident
                return False
        return True
    finally:
        munmap(address, span)


class DirectChunks(Iterator[bytes]):
    """``length`` bytes of a file from ``offset``, read with ``O_DIRECT`` and yielded as
    ``bytes`` of up to ``chunk_size``.

    The disk is kept busy ahead of the consumer: ``readers`` threads read the next ``depth``
    chunks into as many reused aligned buffers while the caller sends the current one (on the
    VM of docs/benchmarks.md one read at a time reached ~1.0-1.3 GB/s end to end, three at a
    time ~1.7-2.4 GB/s). Takes ownership of ``fd``: closed at the end, on error, by ``close``
    (which may come before the first chunk; no thread starts before it) and when the object is
    garbage-collected. A file shorter than announced just ends early (the store's reader
    reports it). ``DirectChunks.wrap`` returns None where ``O_DIRECT`` is refused; a read the
    file system refuses later is done the ordinary way.
    """

    def __init__(self, fd: int, offset: int, length: int, chunk_size: int = READ_CHUNK,
                 *, readers: int = READERS, depth: int = READ_DEPTH) -> None:
        self._fd: int | None = fd
        self._chunk = max(ALIGN, chunk_size - chunk_size % ALIGN)
        self._base = offset - offset % ALIGN  # file offset of chunk 0
        self._skip = offset % ALIGN  # bytes of chunk 0 before ``offset``
        self._left = length
        self._count = (self._skip + length + self._chunk - 1) // self._chunk
        self._depth = max(1, min(depth, self._count))
        self._readers = max(1, readers)
        self._buffers: list[mmap.mmap] = []
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: deque[Future[int]] = deque()
        self._next_read = 0  # index of the next chunk to ask the pool for
        self._done = False

    @classmethod
    def wrap(cls, fd: int, offset: int, length: int, chunk_size: int = READ_CHUNK,
             **options: int) -> DirectChunks | None:
        """Read ``fd`` (switched to ``O_DIRECT``; not closed if that is refused)."""
        if not _set_direct(fd, True):
            return None
        return cls(fd, offset, length, chunk_size, **options)

    def __iter__(self) -> DirectChunks:
        return self

    def _ask(self) -> None:
        """Queue the read of the next chunk (into the buffer its predecessor by ``depth`` used).

        The queued call references the fd and the buffer, not this object: if the object is
        dropped without ``close()``, its clean-up never runs on (and waits for) a reader thread.
        """
        assert self._pool is not None and self._fd is not None
        if self._next_read < self._count:
            index = self._next_read
            self._ahead.append(self._pool.submit(
                _read_chunk, self._fd, self._buffers[index % self._depth],
                self._base + index * self._chunk))
            self._next_read += 1

    def __next__(self) -> bytes:
        if self._done or self._fd is None or self._left <= 0:
            self.close()
            raise StopIteration
        try:
            if self._pool is None:
                self._buffers = [mmap.mmap(-1, self._chunk) for _ in range(self._depth)]
                self._pool = ThreadPoolExecutor(self._readers, thread_name_prefix="direct-read")
                for _ in range(self._depth):
                    self._ask()
            index = self._next_read - len(self._ahead)
            got = self._ahead.popleft().result()
        except BaseException:
            self.close()
            raise
        if got <= self._skip:
            self.close()
            raise StopIteration
        end = min(got, self._skip + self._left)
        with memoryview(self._buffers[index % self._depth]) as view:
            chunk = bytes(view[self._skip:end])
        self._left -= end - self._skip
        self._skip = 0
        if got < self._chunk:  # end of file
            self._done = True
        else:
            self._ask()  # this buffer is free again
        return chunk

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        pool, self._pool = self._pool, None
        if pool is not None:
            for future in self._ahead:
                future.cancel()
            pool.shutdown(wait=True)  # no read may still target the fd or a buffer
        self._ahead.clear()
        os.close(fd)
        for buffer in self._buffers:
            buffer.close()
        self._buffers = []

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            self.close()


def _read_chunk(fd: int, buffer: mmap.mmap, position: int) -> int:
    """One read of a cold file into ``buffer`` (done again ordinarily if ``O_DIRECT`` is
    refused: then for every later chunk too)."""
    try:
        return os.preadv(fd, [buffer], position)
    except OSError as exc:
        if exc.errno not in _REFUSED:
            raise
        _set_direct(fd, False)
        return os.preadv(fd, [buffer], position)
