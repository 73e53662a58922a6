"""The httpx transport every fetch goes through: it connects only to public addresses and keeps
the fetch's deadline on every socket operation.

The address is checked where the socket is opened, before any byte is sent, and the socket is
opened to the very address that was checked (a DNS answer that changes in between cannot slip
a private address in). Never follows redirects, reads bodies or retries: ``monitors.http`` does.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from monitors.errors import BlockedAddress

# --- which addresses may be fetched --------------------------------------------------------

def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified)


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to; ``BlockedAddress`` (without a URL) if one of them is
    not public. A failed lookup raises ``OSError`` (``socket.gaierror``) or ``UnicodeError``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    for text in addresses:
        address = ipaddress.ip_address(text)
        if not _is_public(address):
            raise BlockedAddress(f"refused: {host} resolves to non-public address {address} "
                                 "(set RIFTWATCH_ALLOW_PRIVATE_URLS=true to allow)")
    return list(dict.fromkeys(addresses))


# --- a deadline on every socket operation --------------------------------------------------
# httpx's timeouts are per read, so a server that drips its status line or headers a byte at a
# time (just inside the read timeout) would hold a worker for as long as it likes. The sockets
# below clamp every read, write and connect to the deadline of the fetch running in this thread.

_deadline = threading.local()


@contextmanager
def fetch_deadline(at: float) -> Iterator[None]:
    """Hold every socket operation in this thread to ``at`` (a ``time.monotonic()`` value)."""
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = None


def _clamp(timeout: float | None) -> float | None:
    """``timeout``, shortened to what is left before this thread's fetch deadline."""
    deadline: float | None = getattr(_deadline, "at", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the fetch deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Opens sockets only to allowed addresses, each clamped to the fetch deadline."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        if self._allow_private:
            return self._open(host, port, timeout, local_address, socket_options)
        try:
            addresses = public_addresses(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._open(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def _open(self, host: str, port: int, timeout: float | None, local_address: str | None,
              socket_options: Iterable[Any] | None) -> httpcore.NetworkStream:
        return _DeadlineStream(super().connect_tcp(host, port, _clamp(timeout), local_address,
                                                   socket_options))


# --- the transport -------------------------------------------------------------------------

_HTTPX_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProxyError: httpx.ProxyError,
}


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """Re-raise httpcore's exceptions as httpx's classes of the same name."""
    try:
        yield
    except tuple(_HTTPX_ERRORS) as exc:
        mapped = next(_HTTPX_ERRORS[kind] for kind in type(exc).__mro__ if kind in _HTTPX_ERRORS)
        raise mapped(str(exc)) from exc


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpcore connection pool behind httpx's public transport interface, whose sockets
    refuse non-public addresses (unless ``allow_private``) and keep the fetch deadline."""

    def __init__(self, allow_private: bool) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allow_private))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        try:
            with _as_httpx_errors():
                response = self._pool.handle_request(core_request)
        except BlockedAddress as exc:
            raise BlockedAddress(exc.message, url=str(request.url)) from None
        assert isinstance(response.stream, Iterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()
