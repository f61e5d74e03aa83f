"""``glance-domain serve``: run the Image API v2 HTTP server with the configured options."""

from __future__ import annotations

import argparse

from glance_domain_adapters.cli.options import command_parser, positive_int
from glance_domain_adapters.cli.runtime import Runtime


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(commands, "serve", "serve the Image API v2 over HTTP")
    parser.add_argument(
        "--bind-host", metavar="ADDRESS", help="address to listen on (overrides bind_host)"
    )
    parser.add_argument(
        "--bind-port", metavar="PORT", type=positive_int,
        help="port to listen on (overrides bind_port)",
    )
    parser.set_defaults(handler=run)


def run(runtime: Runtime) -> int:
    """Apply the command-line overrides, then hand over to ``glance_domain_adapters.server``."""
    from glance_domain_adapters import server

    conf = runtime.conf
    args = runtime.args
    if args.bind_host is not None:
        conf.set_override("bind_host", args.bind_host)
    if args.bind_port is not None:
        conf.set_override("bind_port", args.bind_port)
    result = server.serve(conf)
    return int(result or 0)
