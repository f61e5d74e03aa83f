"""Progress bars for image transfers (tqdm: bytes done, speed, ETA), shown only to people.

A bar is drawn on stderr only when stderr is a terminal and the user did not pass
``--no-progress``, so scripts and pipes get clean output.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TextIO

from tqdm import tqdm


def wanted(stream: TextIO, *, disabled: bool) -> bool:
    """Whether to draw a bar on ``stream``."""
    if disabled:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _fixed_size(stream: TextIO) -> tuple[int, int] | None:
    """None to follow the terminal's size, or a fixed (columns, rows) when the terminal reports
    no size (a fresh pseudo-terminal, some CI consoles), where tqdm would draw nothing."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return (80, 24)
    return None if size.columns > 0 and size.lines > 0 else (80, 24)


def track(
    chunks: Iterable[bytes], *, total: int | None, description: str, stream: TextIO, show: bool
) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged, advancing a byte-counting bar as they pass."""
    if not show:
        yield from chunks
        return
    fixed = _fixed_size(stream)
    with tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=stream,
        dynamic_ncols=fixed is None,
        ncols=fixed[0] if fixed else None,
        nrows=fixed[1] if fixed else None,
        miniters=1,
    ) as bar:
        for chunk in chunks:
            bar.update(len(chunk))
            yield chunk
