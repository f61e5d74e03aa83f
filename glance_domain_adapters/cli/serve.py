"""``glance-domain serve``: run the Image API v2 HTTP server with the configured options.

Before handing over to the server, the command checks that the address is free: a busy port
is one line saying what to do (``--bind-port``), not gunicorn's retries and "Can't connect".
"""

from __future__ import annotations

import argparse
import errno
import socket

from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser, positive_int
from glance_domain_adapters.cli.runtime import Runtime


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(commands, "serve", "serve the Image API v2 over HTTP", caller=False)
    parser.add_argument(
        "--bind-host", metavar="ADDRESS", help="address to listen on (overrides bind_host)"
    )
    parser.add_argument(
        "--bind-port", metavar="PORT", type=positive_int,
        help="port to listen on (overrides bind_port)",
    )
    parser.set_defaults(handler=run)


def check_address_free(host: str, port: int) -> None:
    """Raise a ``CliError`` saying how to pick another port if ``host:port`` is taken.

    Binds as the server will (``SO_REUSEADDR``, so connections of a stopped server waiting
    in TIME_WAIT do not count) and releases the socket at once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(
                    f"{host}:{port} is already in use (another server?): stop it, or serve "
                    f"on another port with --bind-port PORT (e.g. --bind-port {port + 1})"
                ) from None
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def run(runtime: Runtime) -> int:
    """Apply the command-line overrides, then hand over to ``glance_domain_adapters.server``."""
    from glance_domain_adapters import server

    conf = runtime.conf
    args = runtime.args
    if args.bind_host is not None:
        conf.set_override("bind_host", args.bind_host)
    if args.bind_port is not None:
        conf.set_override("bind_port", args.bind_port)
    host, port = str(conf.bind_host), int(conf.bind_port)
    # the port is checked once the configuration is known to be usable (its errors come first)
    result = server.serve(conf, preflight=lambda: check_address_free(host, port))
    return int(result or 0)
