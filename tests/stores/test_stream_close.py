"""Streams release their resource when closed before the first chunk (review P1.7).

A client that disconnects before the first chunk, or an import that fails before reading,
closes the stream without iterating it; the HTTP connection / staged file must be released
then, not later by the garbage collector (which reports it as a ResourceWarning).
"""

from __future__ import annotations

import contextlib
import gc
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if not os.path.isdir("/proc/self/fd"):
    pytest.skip("needs Linux /proc to see open descriptors", allow_module_level=True)

import glance_store_plugins as gsp
from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea
from glance_domain_adapters.stores import PluginStoreRegistry
from glance_store_plugins.drivers.http import HttpStore

from .httpserver import Site, serve

DATA = b"z" * 200_000


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve() as running:
        running.files["/img"] = DATA
        yield running


def _open_fds() -> dict[str, str]:
    """What each open descriptor of this process points at (Linux /proc)."""
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return fds


def _sockets_to(port: int) -> set[str]:
    """Inodes of this process's TCP sockets connected to 127.0.0.1:``port``."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes & set(_open_fds().values())


def _closed_unread(stream: Any, still_open: Callable[[], bool]) -> None:
    """``close()`` before the first chunk releases the resource at once (the stream is still
    referenced, as a WSGI server still holds the response body)."""
    assert still_open()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        stream.close()
        assert not still_open()
        del stream
        gc.collect()
    # released by close() itself, not by the garbage collector
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def _http_options() -> dict[str, object]:
    return {"http_store_allowed_networks": "127.0.0.1/32"}


def _port(site: Site) -> int:
    return int(site.base.rsplit(":", 1)[1])


def test_http_driver_read_closed_unread(site: Site) -> None:
    store = HttpStore(_http_options(), backend="web")
    stream = store.read(f"{site.base}/img")
    _closed_unread(stream, lambda: bool(_sockets_to(_port(site))))


def test_plugin_registry_read_closed_unread(site: Site) -> None:
    stores = PluginStoreRegistry(gsp.build_registry(
        {"web": ("http", _http_options())}, default="web"))
    stream = stores.read(f"{site.base}/img")
    _closed_unread(stream, lambda: bool(_sockets_to(_port(site))))


def test_web_download_stream_closed_unread(site: Site) -> None:
    fetcher = HttpFetcher(uri_filter=ImportFilter(allowed_ports=(_port(site),)),
                          allowed_networks=["127.0.0.1/32"])
    stream = fetcher.open(f"{site.base}/img")
    _closed_unread(stream, lambda: bool(_sockets_to(_port(site))))


def test_staged_data_closed_unread(tmp_path: Path) -> None:
    staging = FileStagingArea(str(tmp_path))
    image_id = str(uuid.uuid4())
    staging.write(image_id, [DATA])
    stream = staging.read(image_id)
    path = os.path.realpath(staging.path(image_id))
    _closed_unread(stream, lambda: path in _open_fds().values())
