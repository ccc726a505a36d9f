"""Where the gateway may connect to: backends on public addresses only.

An operator types a backend's URL and the gateway then calls it, so an address inside the
gateway's own network (loopback, private ranges, link-local cloud metadata, ...) would let
an operator probe that network. Such addresses are refused twice: when a URL is registered
(:func:`check_url`, every address its host resolves to) and on every connection
(:func:`guard`), since DNS may answer differently by then. A deployment whose backends
live on a private network (the demo's emulators on 127.0.0.1) allows them by setting.
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
from urllib3.exceptions import NewConnectionError

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


class _Guarded:
    """Check the address actually connected to, after DNS and before a byte is sent."""

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if forbidden(str(sock.getpeername()[0])):
            sock.close()
            raise NewConnectionError(self, "this address is not allowed")  # type: ignore[arg-type]
        return sock


class _HTTPConnection(_Guarded, HTTPConnection):
    pass


class _HTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def guard(http: requests.Session) -> requests.Session:
    """Make every direct connection of ``http`` refuse the addresses :func:`forbidden` names.

    The adapters keep their pool sizes and blocking. A configured HTTP proxy is the
    deployment's own choice and is connected to as before.
    """
    replaced: dict[int, HTTPAdapter] = {}
    for prefix, adapter in list(http.adapters.items()):
        assert isinstance(adapter, HTTPAdapter)
        if id(adapter) not in replaced:  # one adapter mounted twice stays one
            replaced[id(adapter)] = _GuardedAdapter(
                pool_connections=adapter._pool_connections,  # type: ignore[attr-defined]
                pool_maxsize=adapter._pool_maxsize,  # type: ignore[attr-defined]
                pool_block=adapter._pool_block,  # type: ignore[attr-defined]
                max_retries=adapter.max_retries,
            )
        http.mount(prefix, replaced[id(adapter)])
    return http
