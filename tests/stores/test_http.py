"""The http driver against a real server on 127.0.0.1 (allow-listed in these tests only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from glance_store_plugins import (
    BackendError,
    Capability,
    CapabilityError,
    ConfigError,
    InvalidLocation,
    NotFound,
    Store,
)
from glance_store_plugins.drivers.http import HttpStore
from glance_store_plugins.netguard import is_allowed, literal_address, resolve
from glance_store_plugins.testing import StoreContract

from .httpserver import Site, serve


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve() as running:
        yield running


def _store(**options: object) -> HttpStore:
    return HttpStore(
        {"http_store_allowed_networks": "127.0.0.1/32", "http_store_chunk_size": 65536,
         **options},
        backend="web",
    )


class TestHttpStore(StoreContract):
    """The contract kit; write/delete tests skip themselves (read-only driver)."""

    @pytest.fixture
    def store(self, site: Site) -> Store:
        self.site = site
        return _store()

    def seed(self, store: Store, image_id: str, data: bytes) -> str:
        self.site.files[f"/images/{image_id}"] = data
        return f"{self.site.base}/images/{image_id}"

    def missing_location(self, store: Store) -> str:
        return f"{self.site.base}/images/never-there"


def test_is_read_only(site: Site) -> None:
    store = _store()
    assert store.read_only
    assert Capability.WRITE not in store.capabilities
    site.files["/ro"] = b"x"
    with pytest.raises(CapabilityError):
        store.write("img", iter([b"x"]))
    with pytest.raises(CapabilityError):
        store.delete(f"{site.base}/ro")


def test_loopback_refused_without_allow_list(site: Site) -> None:
    site.files["/secret"] = b"internal"
    store = HttpStore({}, backend="web")
    for url in (f"{site.base}/secret", site.base.replace("127.0.0.1", "localhost") + "/secret"):
        with pytest.raises(InvalidLocation, match="not publicly routable"):
            store.read(url)
    assert not any(path == "/secret" for _, path, _ in site.requests)


def test_redirects_are_followed_and_bounded(site: Site) -> None:
    site.files["/final"] = b"arrived"
    site.redirects["/hop1"] = "/hop2"
    site.redirects["/hop2"] = f"{site.base}/final"
    store = _store()
    assert store.read(f"{site.base}/hop1").read_all() == b"arrived"
    site.redirects["/loop"] = "/loop"
    with pytest.raises(BackendError, match="too many redirects"):
        store.read(f"{site.base}/loop")
    with pytest.raises(BackendError, match="too many redirects"):
        _store(http_store_max_redirects=1).read(f"{site.base}/hop1")


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/",
        "http://0xA9FEA9FE/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.1/",
        "ftp://127.0.0.1/x",
    ],
)
def test_each_redirect_hop_is_revalidated(site: Site, target: str) -> None:
    site.redirects["/evil"] = target
    with pytest.raises(InvalidLocation):
        _store().read(f"{site.base}/evil")


def test_server_ignoring_ranges_still_gives_the_right_bytes(site: Site) -> None:
    site.files["/norange"] = bytes(range(256)) * 1000
    site.honour_ranges = False
    try:
        got = _store().read(f"{site.base}/norange", offset=1000, length=70_000).read_all()
    finally:
        site.honour_ranges = True
    assert got == (bytes(range(256)) * 1000)[1000:71_000]


def test_basic_auth_is_sent_but_never_shown(site: Site) -> None:
    store = _store()
    url = site.base.replace("http://", "http://alice:s3cr3t@") + "/missing"
    with pytest.raises(NotFound) as caught:
        store.read(url)
    assert "s3cr3t" not in str(caught.value) and "alice" not in str(caught.value)
    assert site.requests[-1][2].get("Authorization", "").startswith("Basic ")


def test_connection_refused_is_a_backend_error() -> None:
    import socket

    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendError, match="cannot fetch"):
        _store().read(f"http://127.0.0.1:{port}/x")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.1", "[::1]",
     "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[2002:7f00:1::]",
     "[64:ff9b::7f00:1]", "169.254.169.254", "[fe80::1]", "0.0.0.0", "[::]", "10.1.2.3",
     "192.168.0.1", "172.16.5.4", "100.64.0.1", "224.0.0.1", "[fd00:ec2::254]", "localhost"],
)
def test_unsafe_addresses_are_refused(host: str) -> None:
    with pytest.raises(InvalidLocation):
        resolve(host.strip("[]"), 80)


def test_public_addresses_and_allow_list() -> None:
    assert is_allowed(ipaddress.ip_address("8.8.8.8"))
    assert is_allowed(ipaddress.ip_address("::ffff:8.8.8.8"))
    assert is_allowed(ipaddress.ip_address("2606:4700::1111"))
    assert resolve("8.8.8.8", 80) == "8.8.8.8"  # literal: no lookup, no connection
    nets = (ipaddress.ip_network("10.0.0.0/8"),)
    assert is_allowed(ipaddress.ip_address("10.9.9.9"), nets)
    assert not is_allowed(ipaddress.ip_address("10.9.9.9"))
    assert literal_address("cafe.de") is None  # hex letters, but a host name


@pytest.mark.parametrize(
    "options",
    [
        {"http_store_allowed_networks": "not-a-net"},
        {"http_store_connect_timeout": 0},
        {"http_store_max_redirects": -1},
        {"https_ca_certificates_file": "/nonexistent/ca.pem"},
    ],
)
def test_bad_options_fail_loudly(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        HttpStore(options, backend="web")


def test_read_timeout_is_a_backend_error() -> None:
    import socket

    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        store = _store(http_store_read_timeout=0.3)
        with pytest.raises(BackendError, match="timed out"):
            store.read(f"http://127.0.0.1:{port}/slow")
