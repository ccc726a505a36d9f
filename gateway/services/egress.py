"""Where the gateway may connect to: backends on public addresses only.

An operator types a backend's URL and the gateway then calls it, so an address inside the
gateway's own network (loopback, private ranges, link-local cloud metadata, ...) would let
an operator probe that network. Such addresses are refused twice: when a URL is registered
(:func:`check_url`, every address its host resolves to) and on every connection
(:func:`guard`), since DNS may answer differently by then (DNS rebinding). A connection
resolves the host itself and connects only to the addresses it has checked, so no packet
ever goes to a refused one. A deployment whose backends live on a private network (the
demo's emulators on 127.0.0.1) allows them by setting.
"""

from __future__ import annotations

import ipaddress
import socket
import typing as t
from collections.abc import Callable
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import create_connection

Resolve = Callable[..., list[tuple[t.Any, ...]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(ValueError):
    """A URL's host does not resolve, or resolves to an address the gateway may not call."""


def _embedded(address: Address) -> Address:
    """Return the IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def forbidden(raw: str) -> bool:
    """Tell whether an IP address is anything but a public unicast one."""
    address = _embedded(ipaddress.ip_address(raw.split("%", 1)[0]))  # drop an IPv6 zone
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def urls_in(base_url: str, settings: t.Mapping[str, t.Any]) -> list[str]:
    """Return the base URL and every setting that is an http(s) URL (other hosts called)."""
    found = [base_url]
    for value in settings.values():
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            found.append(value)
    return found


def check_url(url: str, *, resolve: Resolve = socket.getaddrinfo) -> None:
    """Refuse a URL whose host is missing, does not resolve, or resolves to any address
    the gateway may not call.

    :raise RefusedAddress: the message names neither the address nor why, on purpose:
        an unknown name and an internal one must look alike.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise RefusedAddress(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        answers = resolve(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError) as err:
        raise RefusedAddress(url) from err
    if not answers or any(forbidden(str(answer[4][0])) for answer in answers):
        raise RefusedAddress(url)


def check_all(urls: Iterable[str], *, resolve: Resolve = socket.getaddrinfo) -> None:
    """Apply :func:`check_url` to each URL."""
    for url in urls:
        check_url(url, resolve=resolve)


class _GuardedHTTPConnection(HTTPConnection):
    """Resolve the host, refuse it if any address is not allowed, then connect to the
    checked addresses themselves: no connection to a refused one is ever opened.

    Only the socket goes to the address: the Host header, TLS SNI and the certificate
    check still name the URL's host (urllib3 takes them from ``self.host``).
    """

    resolve: t.ClassVar[Resolve]
    refuse: t.ClassVar[Callable[[str], bool]]

    def _new_conn(self) -> socket.socket:
        error: OSError | None = None
        for address in self._vetted():
            try:
                return create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as err:  # the next address may answer, as urllib3 would try it
                error = err
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(self, f"connecting to {self.host} timed out") from error
        raise NewConnectionError(self, f"failed to connect: {error}") from error

    def _vetted(self) -> list[str]:
        """Return the host's addresses, each once, in the resolver's order; refuse any bad one."""
        host = self._dns_host.strip("[]")
        try:
            answers = type(self).resolve(host, self.port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as err:
            raise NameResolutionError(host, self, err) from err
        addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
        if not addresses or any(type(self).refuse(address) for address in addresses):
            raise NewConnectionError(self, "this address is not allowed")
        return addresses


def _pool_classes(
    resolve: Resolve, refuse: Callable[[str], bool]
) -> dict[str, type[HTTPConnectionPool]]:
    """Return pool classes, by scheme, whose connections resolve and refuse as given."""
    policy = {"resolve": staticmethod(resolve), "refuse": staticmethod(refuse)}
    http = type("GuardedHTTPConnection", (_GuardedHTTPConnection,), policy)
    https = type("GuardedHTTPSConnection", (_GuardedHTTPConnection, HTTPSConnection), policy)
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class _GuardedAdapter(HTTPAdapter):
    """Connect through guarded pools only, never through a proxy."""

    def __init__(self, pools: dict[str, type[HTTPConnectionPool]], **kwargs: t.Any) -> None:
        self._pools = pools
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.NoReturn:
        # A proxy's pools are not guarded, and the proxy, not the gateway, would resolve the
        # host: through one, the guard could not see where a request lands.
        raise requests.exceptions.ProxyError("a guarded session does not use a proxy")


def guard(
    http: requests.Session,
    *,
    resolve: Resolve = socket.getaddrinfo,
    refuse: Callable[[str], bool] = forbidden,
) -> requests.Session:
    """Make every connection of ``http`` refuse the addresses ``refuse`` names
    (:func:`forbidden`), as ``resolve`` answers at the time of connecting.

    The adapters keep their pool sizes, blocking and retries. The session no longer reads
    the environment (``trust_env``): an ``HTTP(S)_PROXY`` variable would route requests
    around the guard, and a proxy set on the session is refused for the same reason.
    """
    pools = _pool_classes(resolve, refuse)
    replaced: dict[int, HTTPAdapter] = {}
    for prefix, adapter in list(http.adapters.items()):
        assert isinstance(adapter, HTTPAdapter)
        if id(adapter) not in replaced:  # one adapter mounted twice stays one
            replaced[id(adapter)] = _GuardedAdapter(
                pools,
                pool_connections=adapter._pool_connections,  # type: ignore[attr-defined]
                pool_maxsize=adapter._pool_maxsize,  # type: ignore[attr-defined]
                pool_block=adapter._pool_block,  # type: ignore[attr-defined]
                max_retries=adapter.max_retries,
            )
        http.mount(prefix, replaced[id(adapter)])
    http.trust_env = False
    return http
