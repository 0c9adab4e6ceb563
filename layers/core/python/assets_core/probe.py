"""Health probes of registered Assets DBs, made safe against server-side request forgery.

Only http and https; the host is resolved once and every address checked (loopback, private,
link-local such as the cloud metadata address 169.254.169.254, multicast, reserved and
unspecified addresses are refused); the connection goes to the checked address (so DNS
rebinding cannot swap it), with the name kept for Host and TLS; redirects are followed by hand
and each hop checked again; the whole probe has one deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urljoin, urlsplit

from assets_core.errors import InvalidInput
from assets_core.ports import ProbeResult

MAX_REDIRECTS = 3
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="probe-dns")


class TargetRefused(InvalidInput):
    code = "TARGET_NOT_ALLOWED"


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[Any]:
    """The address and every IPv4 address it carries (IPv4-mapped, 6to4, NAT64, Teredo):
    ``2002:a9fe:a9fe::1`` reaches 169.254.169.254 as surely as that address itself."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]  # the IPv4 address itself, on a dual-stack socket
    found: list[Any] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def check_address(address: str, *, allow_loopback: bool) -> None:
    """Refuse an address a health check must not reach: anything but a global unicast
    address (loopback only where allowed, for the local stack)."""
    for ip in _embedded(ipaddress.ip_address(address)):
        if ip.is_loopback and allow_loopback:
            continue
        if ip.is_loopback:
            raise TargetRefused(f"The health URL resolves to a loopback address ({address}).")
        for kind, flagged in (
            ("link-local", ip.is_link_local),
            ("private", ip.is_private),
            ("multicast", ip.is_multicast),
            ("reserved", ip.is_reserved),
            ("unspecified", ip.is_unspecified),
            ("non-global", not ip.is_global),
        ):
            if flagged:
                raise TargetRefused(f"The health URL resolves to a {kind} address ({address}).")


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(0.1, timeout))
    except FutureTimeout:
        raise TimeoutError(f"resolving {host} took too long") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _abort(connection: Any) -> None:
    """End a probe's connection at its deadline: every blocked read or write then fails."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _target(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"Only http and https health URLs are checked, not '{parts.scheme}:'.")
    if not parts.hostname:
        raise TargetRefused("The health URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("The health URL may not carry credentials.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def probe(url: str, *, timeout: float, allow_loopback: bool) -> ProbeResult:
    """GET ``url`` within ``timeout`` seconds; ``TargetRefused`` for a forbidden target, else
    a result (unreachable targets are unhealthy, not errors)."""
    started = time.monotonic()
    deadline = started + timeout

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    for _hop in range(MAX_REDIRECTS + 1):
        scheme, host, port, path = _target(url)
        try:
            addresses = _resolve(host, port, deadline - time.monotonic())
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, None, elapsed(), f"the host could not be resolved: {exc}")
        for address in addresses:
            check_address(address, allow_loopback=allow_loopback)
        left = deadline - time.monotonic()
        if left <= 0:
            return ProbeResult(False, None, elapsed(), "timed out")
        kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        connection: Any = kind(host, port, addresses[0], left)
        # The socket timeout bounds each operation; a server that drips a byte at a time
        # would pass every one of them. The watchdog holds the whole probe to its deadline.
        watchdog = threading.Timer(left, _abort, [connection])
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request(
                "GET",
                path,
                headers={"User-Agent": "assets-registry-health/1", "Accept": "application/json"},
            )
            answer = connection.getresponse()
            answer.read(64 * 1024)
            status, location = answer.status, answer.getheader("Location")
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            if time.monotonic() >= deadline:
                return ProbeResult(False, None, elapsed(), f"timed out after {timeout:g} s")
            return ProbeResult(False, None, elapsed(), f"{type(exc).__name__}: {exc}")
        finally:
            watchdog.cancel()
            connection.close()
        if time.monotonic() >= deadline:
            return ProbeResult(False, None, elapsed(), f"timed out after {timeout:g} s")
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return ProbeResult(200 <= status < 300, status, elapsed())
    return ProbeResult(False, None, elapsed(), f"more than {MAX_REDIRECTS} redirects")
