"""Option types and the options every command accepts.

The common options (``--config-file``, ``-f/--format``, ``-c/--column``, ``--os-project-id``,
``--os-user-id``, ``--os-roles``, ``--debug``) may be given before or after the command words
(``glance-domain -f json image list`` or ``glance-domain image list -f json``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from glance_domain_adapters.cli.output import FORMATS

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def boolean(text: str) -> bool:
    """``True``/``False`` (any case; also yes/no, on/off, 1/0), as glanceclient accepts."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def key_value(text: str) -> tuple[str, str]:
    """``key=value`` (the value may be empty and may contain ``=``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be greater than zero")
    return value


def add_common_options(parser: argparse.ArgumentParser, *, root: bool,
                       caller: bool = True) -> None:
    """Add the shared options; on sub-commands they default to 'not given' so the root's stand.

    ``caller=False`` leaves out the output and identity options (for ``serve``, which prints
    no records and serves whoever calls)."""

    def default(value: object) -> object:
        return value if root else argparse.SUPPRESS

    parser.add_argument(
        "--config-file", action="append", metavar="PATH", default=default([]),
        help="configuration file (repeatable; later files override earlier ones)",
    )
    if caller:
        _add_caller_options(parser, default)
    parser.add_argument(
        "--debug", action="store_true", default=default(False),
        help="show the full traceback when a command fails",
    )


def _add_caller_options(parser: argparse.ArgumentParser,
                        default: Callable[[object], object]) -> None:
    """Output format and identity: for the commands that act as someone and print records."""
    parser.add_argument(
        "-f", "--format", choices=FORMATS, default=default("table"),
        help="output format: table for people (default), json or value for scripts",
    )
    parser.add_argument(
        "-c", "--column", dest="columns", action="append", metavar="COLUMN",
        default=default(None), help="show only this column (repeatable)",
    )
    parser.add_argument(
        "--os-project-id", metavar="PROJECT", default=default(None),
        help="act as a member of this project (default: the local admin project)",
    )
    parser.add_argument(
        "--os-user-id", metavar="USER", default=default(None), help="act as this user",
    )
    parser.add_argument(
        "--os-roles", metavar="ROLE[,ROLE...]", default=default(None),
        help="comma-separated roles of the caller (default with --os-project-id: member,reader)",
    )


def command_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    help: str,
    *,
    caller: bool = True,
) -> argparse.ArgumentParser:
    """A leaf command's parser (with the common options), described by ``help``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=help)
    add_common_options(parser, root=False, caller=caller)
    return parser


def group_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    help: str,
) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """A command group (``image``, ``db``...) whose sub-command is required."""
    parser = subparsers.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
