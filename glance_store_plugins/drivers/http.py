"""``http`` driver: read-only image data at ``http://`` and ``https://`` locations.

Options (glance_store names where the meaning is the same):

``https_insecure``
    Skip TLS certificate verification (default false here; glance_store defaults to true).
``https_ca_certificates_file``
    CA bundle used to verify servers.
``http_store_allowed_networks``
    Networks (CIDR or address) that may be reached although not publicly routable, e.g.
    ``10.0.0.0/8``. Loopback, link-local (incl. 169.254.169.254 metadata), private, shared,
    reserved and multicast addresses are refused otherwise — in every IPv4 spelling and in
    IPv6-mapped/compatible/6to4/Teredo/NAT64 forms.
``http_store_allowed_hosts``
    Host names or addresses (as written in URLs) that may be reached whatever their
    addresses: the operator vouches for them, as for Glance's ``[import_filtering_opts]
    allowed_hosts`` (which glance-domain passes here when this option is not set).
``http_store_max_redirects``
    Redirects followed per request (default 5); each hop is validated again.
``http_store_connect_timeout`` / ``http_store_read_timeout``
    Seconds (defaults 10 and 60).
``http_store_chunk_size``
    Read chunk size in bytes (default 1 MiB).

The host name is resolved once per hop and the connection goes to the checked address (no DNS
rebinding). ``user:password@`` in a location is sent as basic auth to that host only, and never
shown in messages.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from glance_store_plugins import location as loc
from glance_store_plugins import netguard
from glance_store_plugins.base import Store
from glance_store_plugins.capabilities import Capability
from glance_store_plugins.errors import (
    BackendError,
    CapabilityError,
    ConfigError,
    InvalidLocation,
    NotFound,
)
from glance_store_plugins.hashing import HashingChunks
from glance_store_plugins.options import Option
from glance_store_plugins.results import ClosingChunks, ReadStream

REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "glance-domain-http-store/1"


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to an already-checked address, keeping the URL's host name."""

    def __init__(self, host: str, port: int, *, address: str, connect: float, read: float):
        super().__init__(host, port, timeout=connect)
        self._address, self._read_timeout = address, read

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, address: str, connect: float, read: float,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, timeout=connect, context=context)
        self._address, self._read_timeout, self._ctx = address, read, context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.settimeout(self._read_timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


class HttpStore(Store):
    """Reads images from web servers; writing and deleting are not supported."""

    driver_name = "http"
    schemes = ("http", "https")
    capabilities = Capability.READ_ONLY
    #: An extra test every redirect target must pass (the web-download URI filtering of
    #: the importer sets it); None: only the scheme and the network guard.
    redirect_check: Callable[[str], bool] | None = None
    options = {
        opt.name: opt
        for opt in (
            Option(name="https_insecure", type=bool, default=False,
                   help="Do not verify TLS server certificates."),
            Option(name="https_ca_certificates_file", help="CA bundle for TLS verification."),
            Option(name="http_store_allowed_networks", type=list, default=[],
                   help="Non-public networks that may still be reached (CIDRs)."),
            Option(name="http_store_allowed_hosts", type=list, default=[],
                   help="Hosts that may be reached although not publicly routable."),
            Option(name="http_store_max_redirects", type=int, default=5,
                   help="Redirects followed per request."),
            Option(name="http_store_connect_timeout", type=float, default=10.0,
                   help="Connect timeout in seconds."),
            Option(name="http_store_read_timeout", type=float, default=60.0,
                   help="Read timeout in seconds."),
            Option(name="http_store_chunk_size", type=int, default=1 << 20,
                   help="Read chunk size in bytes."),
        )
    }

    def _configure(self, conf: Mapping[str, Any]) -> None:
        try:
            self._allowed = netguard.parse_networks(conf["http_store_allowed_networks"])
        except ConfigError as exc:
            raise ConfigError(f"store backend {self.backend!r}: {exc}") from None
        self._trusted_hosts = frozenset(
            str(h).strip().strip("[]").lower() for h in conf["http_store_allowed_hosts"] or ())
        for name in ("http_store_max_redirects", "http_store_chunk_size"):
            if conf[name] < (0 if name.endswith("redirects") else 1):
                raise ConfigError(f"store backend {self.backend!r}: {name} is out of range")
        for name in ("http_store_connect_timeout", "http_store_read_timeout"):
            if conf[name] <= 0:
                raise ConfigError(f"store backend {self.backend!r}: {name} must be positive")
        self._max_redirects = conf["http_store_max_redirects"]
        self._connect_timeout = conf["http_store_connect_timeout"]
        self._read_timeout = conf["http_store_read_timeout"]
        self.read_chunk_size = conf["http_store_chunk_size"]
        try:
            if conf["https_insecure"]:
                self._ssl = ssl._create_unverified_context()
            else:
                self._ssl = ssl.create_default_context(cafile=conf["https_ca_certificates_file"])
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"store backend {self.backend!r}: cannot load CA certificates: {exc}"
            ) from None

    # -- HTTP plumbing ----------------------------------------------------------------------------
    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
        parts = loc.split(url)
        if parts.scheme not in self.schemes:
            raise InvalidLocation(f"{loc.redact(url)} is not an http(s) URL")
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        trusted = host.lower() in self._trusted_hosts
        address = netguard.resolve(host, port, netguard.ANY_NETWORK if trusted else self._allowed)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = _PinnedHTTPS(host, port, address=address, connect=self._connect_timeout,
                                read=self._read_timeout, context=self._ssl)
        else:
            conn = _PinnedHTTP(host, port, address=address, connect=self._connect_timeout,
                               read=self._read_timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": USER_AGENT}
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        return conn, target, headers

    def _request(
        self, method: str, url: str, extra: Mapping[str, str] | None = None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send ``method``, following redirects (each hop re-validated); 2xx response only."""
        shown = loc.redact(url)
        for _hop in range(self._max_redirects + 1):
            conn, target, headers = self._connection(url)
            try:
                conn.request(method, target, headers={**headers, **(extra or {})})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise BackendError(f"cannot fetch {shown}: {type(exc).__name__}: {exc}") from None
            if resp.status in REDIRECTS:
                target_url = resp.getheader("Location")
                resp.close()
                conn.close()
                if not target_url:
                    raise BackendError(f"redirect without Location from {shown}")
                url = urljoin(_without_userinfo(url), target_url)
                if urlsplit(url).scheme not in self.schemes:
                    raise InvalidLocation(f"{shown} redirects to a non-http URL")
                if self.redirect_check is not None and not self.redirect_check(url):
                    raise InvalidLocation(f"Redirect to disallowed URL: {loc.redact(url)}")
                continue
            if 200 <= resp.status < 300:
                return conn, resp
            resp.close()
            conn.close()
            if resp.status in (404, 410):
                raise NotFound(f"no data at {shown} (HTTP {resp.status})")
            raise BackendError(f"fetching {shown} failed: HTTP {resp.status} {resp.reason}")
        raise BackendError(f"too many redirects (over {self._max_redirects}) from {shown}")

    # -- raw operations -----------------------------------------------------------------------
    def _size(self, location: str) -> int:
        conn, resp = self._request("HEAD", location)
        try:
            length = resp.getheader("Content-Length")
        finally:
            resp.close()
            conn.close()
        if length is None or not length.strip().isdigit():
            raise BackendError(f"{loc.redact(location)} does not report its size")
        return int(length)

    def _read(self, location: str, offset: int, length: int) -> Iterator[bytes]:
        if length == 0:
            return iter(())
        conn, resp = self._request(
            "GET", location, {"Range": f"bytes={offset}-{offset + length - 1}"}
        )
        def release() -> None:
            resp.close()
            conn.close()

        body = self._body(conn, resp, 0 if resp.status == 206 else offset, length)
        return ClosingChunks(body, release)

    def _body(
        self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse,
        skip: int, length: int,
    ) -> Iterator[bytes]:
        try:
            while skip:  # the server ignored the Range header: discard up to the offset
                dropped = resp.read(min(skip, self.read_chunk_size))
                if not dropped:
                    return
                skip -= len(dropped)
            left = length
            while left:
                chunk = resp.read(min(left, self.read_chunk_size))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk
        finally:
            resp.close()
            conn.close()

    # -- unsized streaming (web-download) ---------------------------------------------------------
    def open_stream(self, location: str) -> ReadStream:
        """One GET of ``location``, streamed to its end, without asking its size first.

        For downloads from arbitrary servers (Glance's web-download): no HEAD (many servers
        and presigned URLs allow GET only) and no Content-Length needed (chunked responses).
        ``length`` is the announced Content-Length, or -1 when unknown; the caller enforces
        its own size cap while reading. Truncated bodies raise BackendError.
        """
        self.require(Capability.READ)
        self._check_owned(location)
        conn, resp = self._request("GET", location)
        announced = resp.getheader("Content-Length")
        length = int(announced) if announced and announced.strip().isdigit() else -1

        def release() -> None:
            resp.close()
            conn.close()

        return ReadStream(ClosingChunks(self._until_end(resp, location), release),
                          length=length)

    def _until_end(self, resp: http.client.HTTPResponse, location: str) -> Iterator[bytes]:
        try:
            while chunk := resp.read(self.read_chunk_size):
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            raise BackendError(f"reading {loc.redact(location)} failed: "
                               f"{type(exc).__name__}: {exc}") from None

    def _write(self, image_id: str, chunks: HashingChunks) -> str:
        raise CapabilityError("the http store is read-only")

    def _delete(self, location: str) -> None:
        raise CapabilityError("the http store is read-only")


def _without_userinfo(url: str) -> str:
    """Credentials are meant for the original host only: drop them when following redirects."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
