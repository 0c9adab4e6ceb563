"""Health probes: only global unicast addresses, however an address is wrapped, and one
deadline for the whole probe, not for each socket operation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from assets_core.probe import TargetRefused, check_address, probe


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # carrier-grade NAT (shared address space)
        "192.0.0.1",  # IETF protocol assignments
        "2002:a9fe:a9fe::1",  # 6to4 for 169.254.169.254, the metadata service
        "64:ff9b::a9fe:a9fe",  # NAT64 for 169.254.169.254
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo to 10.0.0.1
        "198.18.0.1",  # benchmarking
        "fc00::1",  # unique local
    ],
)
def test_addresses_that_are_not_global_are_refused(address: str) -> None:
    with pytest.raises(TargetRefused):
        check_address(address, allow_loopback=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_global_addresses_pass(address: str) -> None:
    check_address(address, allow_loopback=False)  # classification only: nothing is sent


def test_loopback_only_where_allowed() -> None:
    check_address("::ffff:127.0.0.1", allow_loopback=True)
    with pytest.raises(TargetRefused):
        check_address("::ffff:127.0.0.1", allow_loopback=False)
    with pytest.raises(TargetRefused):
        check_address("2002:a9fe:a9fe::1", allow_loopback=True)


@pytest.fixture
def dripping_server() -> Iterator[int]:
    """A loopback server that answers a byte every 0.2 s, for 30 s: each read succeeds."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(4096)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100:
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(5)


def test_a_dripping_server_is_stopped_at_the_probes_deadline(dripping_server: int) -> None:
    started = time.monotonic()
    result = probe(f"http://127.0.0.1:{dripping_server}/", timeout=1.0, allow_loopback=True)
    took = time.monotonic() - started
    assert result.healthy is False
    assert result.error is not None
    assert "timed out" in result.error
    assert took < 3.0  # one deadline (1 s), not 1 s per byte (the drip lasts 30 s)
