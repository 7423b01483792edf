"""Which upstream addresses may be reached, checked on the address actually connected (the SSRF guard).

The check runs inside the connection itself: the host name is resolved once, every resolved address is
checked, and the socket is opened to a checked address (and its peer checked again). A name that resolves
to a public address for a pre-check and to 127.0.0.1 a moment later (DNS rebinding) therefore still fails.
TLS keeps using the host name for SNI and certificate checks, and the Host header is untouched.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

from .errors import UpstreamError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPv4 = ipaddress.IPv4Address

# Cloud instance-metadata endpoints: never public, even when an allowed network happens to contain them
# (only an allowed network naming exactly that one address lets them through).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOW_32 = 0xFFFFFFFF
# IPv6 prefixes whose addresses are one IPv4 host, with where that IPv4 address sits in the 128 bits.
TRANSLATED = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), lambda v: (v & LOW_32,)),  # IPv4-mapped
    (ipaddress.IPv6Network("::ffff:0:0:0/96"), lambda v: (v & LOW_32,)),  # SIIT (RFC 7915)
    (ipaddress.IPv6Network("64:ff9b::/96"), lambda v: (v & LOW_32,)),  # NAT64 well-known prefix
    # The local-use NAT64 prefix (RFC 8215) may be any /48 to /96 inside it, and each RFC 6052 layout puts
    # the IPv4 address elsewhere (skipping bits 64-71): every reading must be allowed.
    (
        ipaddress.IPv6Network("64:ff9b:1::/48"),
        lambda v: (
            (v >> 64 & 0xFFFF) << 16 | (v >> 40 & 0xFFFF),  # /48
            (v >> 64 & 0xFF) << 24 | (v >> 32 & 0xFFFFFF),  # /56
            v >> 24 & LOW_32,  # /64
            v & LOW_32,  # /96
        ),
    ),
    (ipaddress.IPv6Network("::/96"), lambda v: (v & LOW_32,)),  # IPv4-compatible (deprecated)
)
NOT_EMBEDDING = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))  # unspecified and loopback
LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


class RefusedAddress(UpstreamError):
    """An upstream host is, or resolves to, an address the [fetch] policy does not allow."""


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses are allowed; loopback, private, link-local and metadata only when listed.

    An IPv6 address that embeds an IPv4 address (NAT64, 6to4, Teredo, mapped...) is judged by that IPv4
    address, so allowances for it are written as IPv4 networks; tunnel addresses must pass as IPv6 too.
    """

    allowed: tuple[IPNetwork, ...] = ()
    # Single (address, port) services besides those networks: the demo upstream's own socket, nothing else.
    endpoints: frozenset[tuple[IPAddress, int]] = frozenset()

    @classmethod
    def from_networks(cls, networks: Iterable[str], endpoints: Iterable[str] = ()) -> AddressPolicy:
        """A policy from `[fetch] allow_networks` strings such as "127.0.0.0/8", plus exact "host:port"s."""
        return cls(
            tuple(ipaddress.ip_network(n, strict=False) for n in networks),
            frozenset(parse_endpoint(e) for e in endpoints),
        )

    def permits(self, address: IPAddress, port: int | None = None) -> bool:
        """True when an upstream may be reached at this address (and at every IPv4 address it embeds).

        With a port, an exact endpoint permission (the demo upstream) also counts, for that port alone.
        """
        if port is not None and (address, port) in self.endpoints:
            return True
        translated, tunnelled = embedded_ipv4(address)
        if not all(self._permits(v4) for v4 in translated + tunnelled):
            return False
        # A translated address is that IPv4 host and nothing else; a tunnel address is an IPv6 host too.
        return bool(translated) or self._permits(address)

    def _permits(self, address: IPAddress) -> bool:
        if address in METADATA_ADDRESSES:
            return any(net.num_addresses == 1 and address in net for net in self.allowed)
        if address.is_global and not address.is_multicast:
            return True
        return any(address.version == net.version and address in net for net in self.allowed)

    def check(self, host: str, address: IPAddress, port: int | None = None) -> None:
        """Raise RefusedAddress unless the address (at this port) is permitted."""
        if not self.permits(address, port):
            raise RefusedAddress(
                f"refusing {host}: {address} is not a public address (allow it in [fetch] allow_networks)"
            )

    def resolve(self, host: str, port: int | None = None) -> list[str]:
        """Every address of a host, each checked: RefusedAddress if any is refused."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = []
        for info in infos:
            text = str(info[4][0])
            self.check(host, ipaddress.ip_address(text.split("%")[0]), port)
            if text not in addresses:
                addresses.append(text)
        return addresses

    def refusal(self, url: str) -> str | None:
        """Why a URL's literal host (an IP or localhost) is refused, without resolving; else None."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        if not host or parts.scheme.lower() not in ("http", "https"):
            return None
        port = url_port(parts)
        if host in LOCAL_NAMES or host.endswith(".localhost"):
            if not any(self.permits(a, port) for a in LOOPBACK):
                return f"{host} is a loopback name (allow 127.0.0.0/8 in [fetch] allow_networks to use it)"
            return None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None  # a name: checked when it is resolved and connected
        if not self.permits(address, port):
            return f"{address} is not a public address (allow it in [fetch] allow_networks)"
        return None


def parse_endpoint(text: str) -> tuple[IPAddress, int]:
    """An endpoint such as 127.0.0.1:8123 or [::1]:8123 as (address, port); ValueError otherwise."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not an address:port: {text!r}")
    return ipaddress.ip_address(host.strip("[]")), int(port)


def url_port(parts) -> int | None:
    """The port a split http(s) URL connects to (its own, else the scheme's); None when it has none."""
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None


def embedded_ipv4(address: IPAddress) -> tuple[list[IPv4], list[IPv4]]:
    """(translated, tunnelled): the IPv4 addresses an IPv6 address reaches through a translator or a tunnel.

    Translated (the IPv6 address stands for the IPv4 host): IPv4-mapped ::ffff:0:0/96, SIIT ::ffff:0:0:0/96,
    IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48 (read with every RFC 6052 layout from /48
    to /96, since the local prefix's length is not known here). Tunnelled (an IPv6 host behind a relay):
    6to4 2002::/16 and Teredo 2001::/32 (server and client).
    """
    if not isinstance(address, ipaddress.IPv6Address) or address in NOT_EMBEDDING:
        return [], []
    value = int(address)
    for network, extract in TRANSLATED:
        if address in network:
            return [ipaddress.IPv4Address(v4) for v4 in extract(value)], []
    if address.sixtofour is not None:
        return [], [address.sixtofour]
    if address.teredo is not None:
        return [], list(address.teredo)
    return [], []


class _GuardedConnection:
    """Mixin for urllib3 connections: resolve, check, connect to the checked address, check the peer."""

    policy: AddressPolicy = AddressPolicy()

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.policy.resolve(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error: Exception = NewConnectionError(self, f"no address for {self.host}")
        for address in addresses:
            try:
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                error = ConnectTimeoutError(self, f"Connection to {self.host} timed out")
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
            else:
                return self._checked_peer(sock)
        raise error

    def _checked_peer(self, sock: socket.socket) -> socket.socket:
        name = sock.getpeername()
        peer = ipaddress.ip_address(str(name[0]).split("%")[0])
        if not self.policy.permits(peer, name[1]):
            sock.close()
            self.policy.check(self.host, peer, name[1])
        return sock


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections obey an AddressPolicy; proxies are refused.

    `mixins` come before the guard in each connection class: the sockets they see are the checked ones.
    """

    def __init__(self, policy: AddressPolicy, mixins: tuple[type, ...] = (), **kwargs):
        attrs = {"policy": policy}
        http_conn = type("GuardedHTTPConnection", (*mixins, _GuardedConnection, HTTPConnection), attrs)
        https_conn = type("GuardedHTTPSConnection", (*mixins, _GuardedConnection, HTTPSConnection), attrs)
        self._pool_classes = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        """The standard pool manager, building guarded pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        """Refuse proxies: the proxy would connect wherever the name resolves, past the guard."""
        raise UpstreamError("upstream requests through a proxy are not supported")
