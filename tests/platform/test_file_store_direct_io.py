"""The file store's direct I/O, seen through the real server: an upload written with O_DIRECT
(not left in the page cache), a download of that cold file read with O_DIRECT (whole and
ranged, same bytes and headers as from the cache), and the warm-up that later puts it into
the page cache from a separate process."""

from __future__ import annotations

import hashlib
import http.client
import os
import time
from collections.abc import Iterator

import pytest

from tests.conftest import unavailable
from tests.platform.test_upload_body import Server, _serve
from tests.stores.data import file_system_supports_o_direct, in_page_cache

SIZE = 6 * (1 << 20) + 123  # over direct_io.DIRECT_READ_MIN, under the server's size cap


def _upload(server: Server, data: bytes) -> str:
    image_id = server.create()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("PUT", f"/v2/images/{image_id}/file", body=data,
                 headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    assert resp.status == 204, resp.read()
    conn.close()
    return image_id


def _get(server: Server, image_id: str, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", f"/v2/images/{image_id}/file", headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


@pytest.fixture(scope="module")
def cold_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("direct-io"),
                      store_options="filesystem_store_direct_io = true\n"
                      "filesystem_store_warm_cache = false\n")


@pytest.fixture(scope="module")
def warming_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("direct-io-warm"),
                      store_options="filesystem_store_direct_io = true\n")


def test_a_cold_image_downloads_whole_and_ranged(cold_server: Server) -> None:
    data = os.urandom(SIZE)
    image_id = _upload(cold_server, data)
    path = cold_server.images / image_id
    if in_page_cache(path):
        if file_system_supports_o_direct(cold_server.images):  # then the code stopped using it
            pytest.fail("the upload went through the page cache although the data directory's "
                        "file system takes O_DIRECT")
        unavailable("the data directory's file system refuses O_DIRECT")
    status, headers, body = _get(cold_server, image_id)
    assert status == 200
    assert body == data
    assert headers["content-length"] == str(SIZE)
    assert headers["content-md5"] == hashlib.md5(data).hexdigest()
    assert not in_page_cache(path)  # served with O_DIRECT: the download did not fill the cache
    first, last = 4097, SIZE - 77
    status, headers, body = _get(cold_server, image_id, {"Range": f"bytes={first}-{last}"})
    assert status == 206
    assert body == data[first:last + 1]
    assert headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    path.read_bytes()  # now in the page cache: the file path (sendfile) serves it
    assert in_page_cache(path)
    status, _, body = _get(cold_server, image_id)
    assert status == 200 and body == data


def test_an_upload_is_warmed_into_the_page_cache_afterwards(warming_server: Server) -> None:
    data = os.urandom(SIZE)
    image_id = _upload(warming_server, data)
    path = warming_server.images / image_id
    deadline = time.monotonic() + 30
    while not in_page_cache(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_page_cache(path)
    status, _, body = _get(warming_server, image_id)
    assert status == 200 and body == data
