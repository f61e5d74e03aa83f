"""Entry point of the ``glance-domain`` console script.

``main(argv)`` parses the command line, runs one command and returns its exit code; it never
lets a traceback reach the user (unless ``--debug``): usage errors exit 2, failed operations 1
with a one-line message on stderr. Embedding programs and tests may pass ``gateway_factory`` to
run image commands against a gateway they built (for example an in-memory one).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from glance_domain_adapters.cli import (
    cache,
    db,
    image_data,
    images,
    members,
    scrubber,
    serve,
    tags,
    verify,
)
from glance_domain_adapters.cli.errors import EXIT_INTERRUPTED, EXIT_OK, describe
from glance_domain_adapters.cli.options import add_common_options, group_parser
from glance_domain_adapters.cli.runtime import GatewayFactory, Runtime

PROG = "glance-domain"


def build_parser() -> argparse.ArgumentParser:
    """The complete argument parser (every command group registers its own sub-commands)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve, manage and use a glance-domain image service "
        "(image commands run in-process on the configured database and stores).",
    )
    add_common_options(parser, root=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.register(commands)
    db.register(group_parser(commands, "db", "manage the database schema and purge rows"))
    image_commands = group_parser(commands, "image", "create, list, change and share images")
    images.register(image_commands)
    image_data.register(image_commands)
    verify.register(image_commands)
    tags.register(group_parser(image_commands, "tag", "add or remove image tags"))
    members.register(group_parser(image_commands, "member", "share images with projects"))
    cache.register(group_parser(commands, "cache", "manage the local image cache "
                                "(image_cache_dir)"))
    scrubber.register(commands)
    return parser


def _quiet_logging(stream: TextIO, *, debug: bool) -> None:
    """Library log lines would repeat the one-line error: show them only with --debug."""
    root = logging.getLogger()
    if root.handlers:  # configured by an embedding program (or pytest): leave it alone
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.CRITICAL)


def main(
    argv: Sequence[str] | None = None,
    *,
    gateway_factory: GatewayFactory | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one ``glance-domain`` command; return its exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help (0) or a usage error (2, message already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command != "serve":  # the server sets up its own logging
        _quiet_logging(err, debug=bool(getattr(args, "debug", False)))
    runtime = Runtime(
        args=args,
        stdout=out,
        stderr=err,
        stdin=stdin if stdin is not None else sys.stdin,
        gateway_factory=gateway_factory,
    )
    try:
        code = args.handler(runtime)
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `glance-domain image download ID | head -c 10`
        return EXIT_OK
    except Exception as exc:
        if getattr(args, "debug", False):
            traceback.print_exc(file=err)
        message, code = describe(exc)
        err.write(f"{PROG}: error: {message}\n")
        return code
    return int(code or EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
