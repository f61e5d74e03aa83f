"""Loopback HTTP helpers of the WSGI tests: serve an app with cheroot on 127.0.0.1, and a
python-glanceclient that sends the identity headers keystonemiddleware would set."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cheroot import wsgi as cheroot_wsgi


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Callable[..., Any]) -> Iterator[str]:
    """Serve ``app`` with a real HTTP server (cheroot, 4 threads) on a free loopback port;
    yields its endpoint URL and stops the server on exit."""
    port = free_port()
    server = cheroot_wsgi.Server(("127.0.0.1", port), app, numthreads=4)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=5)


def glanceclient_as(endpoint: str, project: str, roles: str) -> Any:
    """A glanceclient v2 client acting for ``project`` with ``roles``.

    No keystone: it sends the headers keystonemiddleware would set, as a trusted proxy would.
    """
    from glanceclient.v2 import client as gc_client

    headers = {"X-Identity-Status": "Confirmed", "X-Project-Id": project,
               "X-User-Id": f"user-{project}", "X-Roles": roles}
    client = gc_client.Client(endpoint=endpoint, token="unused")
    client.http_client.session.headers.update(headers)
    return client
