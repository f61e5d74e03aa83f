"""``UriFetcher`` for the ``web-download`` import method.

Two guards, both applied before a task is created and again when connecting:

1. Glance's ``[import_filtering_opts]`` rules (:class:`ImportFilter`): allowed/disallowed
   schemes, hosts and ports (by default only http/https on ports 80 and 443), for the URL and
   for every redirect target ("Redirect to disallowed URL").
2. The ``http`` store driver's SSRF guard (``glance_store_plugins.netguard``): the host's
   addresses must be publicly routable unless they lie in ``allowed_networks`` or the host is
   named in ``allowed_hosts`` (the operator vouches for it, as in Glance, where a listed host
   may be loopback); the connection goes to the checked address (no DNS rebinding) and every
   redirect is checked again.

The data itself is read through an instance of the ``http`` store driver, with one GET
streamed to its end (no HEAD, no Content-Length needed); the importer caps the size while
writing it to staging.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from glance_domain.errors import InvalidInput, NotFound, StoreUnavailable
from glance_domain.ports import DataStream
from glance_store_plugins import errors as store_errors
from glance_store_plugins import netguard
from glance_store_plugins.drivers.http import HttpStore
from glance_store_plugins.location import split
from glance_store_plugins.results import ClosingChunks

DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.frozen(kw_only=True)
class ImportFilter:
    """Glance's URI filtering for web-download (``[import_filtering_opts]``); an allow list,
    when not empty, wins over the matching deny list."""

    allowed_schemes: tuple[str, ...] = ("http", "https")
    disallowed_schemes: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    disallowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = (80, 443)
    disallowed_ports: tuple[int, ...] = ()

    def accepts(self, uri: str) -> bool:
        try:
            parts = split(uri)
            port = parts.port
        except (ValueError, store_errors.StoreError):
            return False
        scheme, host = parts.scheme, parts.hostname or ""
        if scheme not in DEFAULT_PORTS or not host:
            return False
        if port is None:
            port = DEFAULT_PORTS[scheme]
        return (
            _passes(scheme, self.allowed_schemes, self.disallowed_schemes)
            and _passes(host, self.allowed_hosts, self.disallowed_hosts)
            and _passes(port, self.allowed_ports, self.disallowed_ports)
        )


def _passes(value: object, allowed: Sequence[object], disallowed: Sequence[object]) -> bool:
    if allowed:
        return value in allowed
    return value not in disallowed


class HttpFetcher:
    """Downloads through the ``http`` store driver, after :class:`ImportFilter` and netguard."""

    def __init__(
        self,
        *,
        uri_filter: ImportFilter | None = None,
        allowed_networks: Sequence[str] = (),
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        insecure: bool = False,
        ca_file: str | None = None,
    ) -> None:
        self.filter = uri_filter or ImportFilter()
        options: dict[str, object] = {
            "http_store_allowed_networks": list(allowed_networks),
            "http_store_connect_timeout": connect_timeout,
            "http_store_read_timeout": read_timeout,
            "https_insecure": insecure,
        }
        if ca_file:
            options["https_ca_certificates_file"] = ca_file
        options["http_store_allowed_hosts"] = list(self.filter.allowed_hosts)
        self.store = HttpStore(options, backend="os_glance_web_download")
        # every redirect target must pass the same filtering as the URL itself (as Glance)
        self.store.redirect_check = self.filter.accepts
        self._allowed = netguard.parse_networks(allowed_networks)
        self._trusted_hosts = frozenset(h.strip("[]").lower() for h in self.filter.allowed_hosts)

    def check(self, uri: str, purpose: str = "web-download") -> None:
        """InvalidInput "URI for <purpose> does not pass filtering: <uri>" (Glance's words)
        unless ``uri`` passes the filtering and the network guard."""
        refused = f"URI for {purpose} does not pass filtering: {uri}"
        if not self.filter.accepts(uri):
            raise InvalidInput(refused)
        parts = split(uri)
        host = parts.hostname or ""
        vouched = host.lower() in self._trusted_hosts
        try:
            netguard.resolve(host, parts.port or DEFAULT_PORTS[parts.scheme],
                             netguard.ANY_NETWORK if vouched else self._allowed)
        except store_errors.StoreError:
            raise InvalidInput(refused) from None

    def open(self, uri: str) -> DataStream:
        self.check(uri)
        try:
            stream = self.store.open_stream(uri)  # GET only: no HEAD, no length needed
        except store_errors.NotFound as exc:
            raise NotFound(exc.message) from None
        except store_errors.StoreError as exc:
            raise StoreUnavailable(exc.message) from None
        return DataStream(chunks=ClosingChunks(_translated(stream.chunks), stream.close),
                          length=stream.length)


def _translated(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except store_errors.StoreError as exc:
        raise StoreUnavailable(exc.message) from None
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
