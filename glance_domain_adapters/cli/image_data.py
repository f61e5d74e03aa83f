"""``glance-domain image upload | download``: stream image bytes from/to a file or a pipe.

Data never passes through memory whole: files are read and written in chunks, with a progress
bar when a person is watching (see ``progress``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from glance_domain_adapters.cli import lookup, progress
from glance_domain_adapters.cli.errors import EXIT_USAGE, CliError
from glance_domain_adapters.cli.options import command_parser, non_negative_int
from glance_domain_adapters.cli.output import print_record
from glance_domain_adapters.cli.runtime import Runtime
from glance_domain_adapters.cli.views import image_view

CHUNK_SIZE = 64 * 1024


def add_transfer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="BACKEND", help="store backend to upload to")
    parser.add_argument("--no-progress", action="store_true",
                        help="never draw a progress bar (default: only on a terminal)")
    parser.add_argument("--progress", action="store_true",
                        help="accepted for glanceclient compatibility (bars are automatic)")


def register(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    upload = command_parser(image, "upload", "upload data to a queued image and activate it")
    upload.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    upload.add_argument("--file", metavar="PATH",
                        help="file to upload (default: read standard input)")
    upload.add_argument("--size", type=non_negative_int, metavar="BYTES",
                        help="expected size (checked by the service)")
    add_transfer_options(upload)
    upload.set_defaults(handler=run_upload)

    download = command_parser(image, "download", "download an image's data")
    download.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    download.add_argument("--file", metavar="PATH",
                          help="file to write (default: standard output, if not a terminal)")
    download.add_argument("--no-progress", action="store_true",
                          help="never draw a progress bar (default: only on a terminal)")
    download.add_argument("--progress", action="store_true",
                          help="accepted for glanceclient compatibility (bars are automatic)")
    download.set_defaults(handler=run_download)


class Source:
    """An open input (a file or stdin) and, when known, its size."""

    def __init__(self, stream: BinaryIO, size: int | None, *, owned: bool) -> None:
        self.stream = stream
        self.size = size
        self._owned = owned

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.stream.read(CHUNK_SIZE):
            yield chunk

    def close(self) -> None:
        if self._owned:
            self.stream.close()


def open_source(runtime: Runtime, path: str | None) -> Source:
    """Open ``path`` (or stdin when None) before touching the service, so a typo fails first."""
    if path is None or path == "-":
        stdin = runtime.stdin
        if path is None and getattr(stdin, "isatty", lambda: False)():
            raise CliError("no data to upload: give --file PATH or pipe the data in", EXIT_USAGE)
        return Source(runtime.binary_stdin(), None, owned=False)
    if os.path.isdir(path):
        raise CliError(f"--file {path!r} is a directory", EXIT_USAGE)
    stream = open(path, "rb")  # noqa: SIM115 - closed by Source.close
    try:
        size: int | None = os.fstat(stream.fileno()).st_size
    except OSError:
        size = None
    return Source(stream, size, owned=True)


def upload(runtime: Runtime, service: Any, image_id: str, source: Source) -> Any:
    """Stream ``source`` into the image (with a progress bar on a terminal)."""
    args = runtime.args
    show = progress.wanted(runtime.stderr, disabled=getattr(args, "no_progress", False))
    size = getattr(args, "size", None)
    expected = size if size is not None else source.size
    chunks = progress.track(source.chunks(), total=expected, description="Uploading",
                            stream=runtime.stderr, show=show)
    return service.upload_data(image_id, chunks, size=size, backend=getattr(args, "store", None))


def run_upload(runtime: Runtime) -> int:
    source = open_source(runtime, runtime.args.file)
    try:
        service = runtime.service()
        image = upload(runtime, service, lookup.image_id(service, runtime.args.image_id), source)
    finally:
        source.close()
    print_record(image_view(image), fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0


def run_download(runtime: Runtime) -> int:
    args = runtime.args
    to_stdout = args.file is None or args.file == "-"
    if args.file is None and getattr(runtime.stdout, "isatty", lambda: False)():
        raise CliError("refusing to write image data to a terminal: give --file PATH or "
                       "redirect standard output", EXIT_USAGE)
    service = runtime.service()
    image_id = lookup.image_id(service, args.image_id)
    download = service.download_data(image_id)
    if download is None:
        raise CliError(f"image {args.image_id} has no data to download")
    show = progress.wanted(runtime.stderr, disabled=args.no_progress)
    try:
        chunks = progress.track(download.stream, total=download.length,
                                description="Downloading", stream=runtime.stderr, show=show)
        if to_stdout:
            _write_all(chunks, runtime.binary_stdout())
        else:
            _write_file(chunks, args.file)
    finally:
        download.stream.close()
    return 0


def _write_all(chunks: Iterator[bytes], out: BinaryIO) -> None:
    for chunk in chunks:
        out.write(chunk)
    out.flush()


def _write_file(chunks: Iterator[bytes], path: str) -> None:
    """Write to a temporary file beside ``path`` and rename it, so a failure leaves no partial
    file under the requested name."""
    directory = os.path.dirname(os.path.abspath(path))
    partial = os.path.join(directory, f".{os.path.basename(path)}.partial-{os.getpid()}")
    try:
        with open(partial, "wb") as out:
            _write_all(chunks, out)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
