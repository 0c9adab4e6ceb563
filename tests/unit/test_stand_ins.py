"""The stand-ins' process handling: loopback only, and a server that ignores SIGTERM is killed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from local.stand_ins import _answers_tcp, free_port, start_server


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the IPv4 sockets listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_the_sessions_servers_listen_on_loopback_only() -> None:
    for variable in ("S3_ENDPOINT_URL", "MONGODB_URI"):
        if os.environ.get(f"TEST_{variable}"):
            continue  # a server of the developer's own
        port = urlsplit(os.environ[variable]).port
        assert port is not None
        assert listening_addresses(port) == {"127.0.0.1"}, variable


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    port = free_port()
    stubborn = (
        "import signal, socket, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(120)"
    )
    server = start_server("stubborn", [sys.executable, "-c", stubborn], "", _answers_tcp(port))
    started = time.monotonic()
    server.stop(grace_seconds=0.5)
    assert server.process.returncode == -9
    assert time.monotonic() - started < 10
