"""Refusing unsafe network destinations (server-side request forgery protection).

A URL's host is turned into IP addresses *once* (IPv4 literals in every legacy form the C library
accepts — decimal ``2130706433``, hex ``0x7f.1``, octal ``0177.0.0.1``, short ``127.1`` — are
normalised first); every address must be publicly routable unless it lies in an allow-listed
network. The caller then connects to the checked address itself, so a second DNS answer cannot
point the request elsewhere (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

from glance_store_plugins.errors import ConfigError, InvalidLocation

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Metadata services and other addresses refused even if ``is_global`` would say otherwise.
ALWAYS_SUSPECT = tuple(
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "100.64.0.0/10", "fd00:ec2::/32")
)

#: Pass as ``allowed`` for a host the operator vouches for: every address is accepted.
ANY_NETWORK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))

_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse allow-list entries (CIDRs or single addresses) or raise ConfigError."""
    nets = []
    for value in values:
        try:
            nets.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"invalid network {value!r} in allow list") from None
    return tuple(nets)


def _embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one (mapped, compatible, 6to4, NAT64, Teredo)."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    packed = addr.packed
    if packed[:12] == bytes(12) and int(addr) > 1:  # IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    if addr in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_allowed(addr: IPAddress, allowed: Iterable[IPNetwork] = ()) -> bool:
    """Whether connecting to ``addr`` is acceptable."""
    allowed = tuple(allowed)
    if any(addr.version == net.version and addr in net for net in allowed):
        return True
    inner = _embedded_ipv4(addr)
    if inner is not None and not is_allowed(inner, allowed):
        return False
    if any(addr.version == net.version and addr in net for net in ALWAYS_SUSPECT):
        return False
    return inner is not None or (addr.is_global and not addr.is_multicast)


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one, in any form the system resolver would accept."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None  # a host name made of hex letters, e.g. "cafe.de"
    return None


def resolve(host: str, port: int, allowed: Iterable[IPNetwork] = ()) -> str:
    """Return one checked address for ``host`` or raise InvalidLocation.

    All of the name's addresses must be acceptable (an attacker's name could list a safe and an
    unsafe one); the first is returned for the caller to connect to.
    """
    if not host:
        raise InvalidLocation("URL has no host")
    literal = literal_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise InvalidLocation(f"cannot resolve host {host!r}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise InvalidLocation(f"cannot resolve host {host!r}")
    for addr in addresses:
        if not is_allowed(addr, allowed):
            raise InvalidLocation(
                f"refusing to connect to {host!r}: address {addr} is not publicly routable "
                "and not allow-listed"
            )
    return str(addresses[0])
