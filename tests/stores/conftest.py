"""Fixtures for store tests, each started once per test session on 127.0.0.1: a moto S3 server,
a single-node Ceph cluster (RBD, radosgw S3 and Swift API) and a Swift all-in-one (see
``tests/stores/servers``). A missing server skips its tests with one line saying how to get
it, or fails them under CI=true."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto_server bound to 127.0.0.1 on a free port."""
    binary = Path(sys.executable).parent / "moto_server"
    command = str(binary) if binary.exists() else shutil.which("moto_server")
    if command is None:
        _missing("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    proc = subprocess.Popen(
        [str(command), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    _missing("moto_server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def ceph_cluster() -> Iterator[Any]:
    """A single-node Ceph (mon, mgr, one memstore OSD, radosgw) on 127.0.0.1, per session."""
    from tests.stores.servers import ServerUnavailable
    from tests.stores.servers.ceph import CephCluster

    try:
        cluster = CephCluster().start()
    except ServerUnavailable as exc:
        _missing(f"Ceph: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def rbd_pool(ceph_cluster: Any) -> Iterator[str]:
    """A fresh RBD pool for one test (image names repeat across tests), deleted afterwards."""
    import uuid

    name = f"t-{uuid.uuid4().hex[:10]}"
    ceph_cluster.create_pool(name)
    try:
        yield name
    finally:
        ceph_cluster.delete_pool(name)


@pytest.fixture(scope="session")
def swift_aio() -> Iterator[Any]:
    """An OpenStack Swift all-in-one (tempauth proxy, one-replica rings) on 127.0.0.1."""
    from tests.stores.servers import ServerUnavailable
    from tests.stores.servers.swift import SwiftAIO

    try:
        aio = SwiftAIO().start()
    except ServerUnavailable as exc:
        _missing(f"Swift: {exc}")
    try:
        yield aio
    finally:
        aio.stop()


GlanceStoreWrite = Callable[[str, dict[str, Any], str, bytes], tuple[str, int, str]]


#: Writes one image with glance_store's own driver, in a child process: glance_store brings
#: eventlet along, and librbd in a process where eventlet was imported aborted once mid-suite.
_GLANCE_STORE_WRITER = """
import io, json, sys
import glance_store
from glance_store import backend
from oslo_config import cfg
job = json.load(sys.stdin)
conf = cfg.ConfigOpts()
glance_store.register_opts(conf)
conf([], project="glance-domain-test")
conf.set_override("stores", [job["scheme"]], group="glance_store")
conf.set_override("default_store", job["scheme"], group="glance_store")
for name, value in job["options"].items():
    conf.set_override(name, value, group="glance_store")
glance_store.create_stores(conf)
store = backend.get_store_from_scheme(job["scheme"])
data = open(job["data"], "rb").read()
location, size, checksum, _multihash, _meta = store.add(
    job["image_id"], io.BytesIO(data), len(data), "sha512")
print(json.dumps([str(location), int(size), str(checksum)]))
"""


@pytest.fixture(scope="session")
def glance_store_write(tmp_path_factory: pytest.TempPathFactory) -> GlanceStoreWrite:
    """``write(scheme, options, image_id, data) -> (location, size, md5)`` through glance_store's
    own driver for ``scheme``, configured with ``options`` (its ``[glance_store]`` group), run
    in a child process."""
    import importlib.util
    import json
    import subprocess
    import sys

    if importlib.util.find_spec("glance_store") is None:
        pytest.skip("glance_store is not installed (pip install 'glance-domain[test]')")
    scratch = tmp_path_factory.mktemp("glance-store-write")

    def write(scheme: str, options: dict[str, Any], image_id: str,
              data: bytes) -> tuple[str, int, str]:
        source = scratch / f"{image_id}.data"
        source.write_bytes(data)
        job = {"scheme": scheme, "options": options, "image_id": image_id, "data": str(source)}
        done = subprocess.run([sys.executable, "-c", _GLANCE_STORE_WRITER],
                              input=json.dumps(job), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        location, size, checksum = json.loads(done.stdout.strip().splitlines()[-1])
        return str(location), int(size), str(checksum)

    return write
