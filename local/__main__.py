"""``make run``: the whole system on this machine, until Ctrl-C."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.backends import Backends
    from local.gateway import GatewayServer

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main() -> int:
    from local.backends import start_backends

    logging.basicConfig(
        level=os.environ.get("LOCAL_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(name)s %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    os.environ.setdefault("DOWNLOAD_URL", f"http://{host}:{port}/registry/zip/stream")
    # A locally run Assets DB can be registered and health-checked at 127.0.0.1.
    os.environ.setdefault("HEALTH_CHECK_ALLOW_LOOPBACK", "true")
    print(
        "Starting LocalStack (S3, SQS, Secrets Manager, EventBridge) and SecantusDB (MongoDB)...",
        flush=True,
    )
    backends = start_backends()
    try:
        return _serve(host, port, backends)
    finally:
        backends.stop()


def admin_token(server: GatewayServer) -> str:
    """A token of the stack's issuer for an admin, valid for an hour."""
    from local.authority import TokenRequest

    request = TokenRequest(sub="local-admin", roles=("assets-admin",), expires_in=3600)
    return str(server.gateway.authority.mint(request)["access_token"])


def _serve(host: str, port: int, backends: Backends) -> int:
    from assets_core.config import get_settings
    from assets_core.routes import API_GROUPS, ARCHIVE_BUILDER, INGEST, JANITOR, OUTBOX, PURGE
    from local.console import allow_console_uploads
    from local.events import EventLog, configure_events
    from local.gateway import serve
    from local.poller import (
        ARCHIVE_QUEUE,
        QueuePoller,
        Schedule,
        configure_pipeline,
        dead_letter_url,
        queue_url_of,
    )

    queue_url = configure_pipeline(
        backends.s3_endpoint,
        get_settings().bucket_name,
        archive_queue=ARCHIVE_QUEUE,
    )
    origins = [f"http://{host}:{port}", f"http://localhost:{port}"]
    allow_console_uploads(backends.s3_endpoint, get_settings().bucket_name, origins)
    ingest_handler = importlib.import_module(INGEST.module).handler
    janitor_handler = importlib.import_module(JANITOR.module).handler
    poller = QueuePoller(backends.s3_endpoint, queue_url, ingest_handler)
    dead_letters = QueuePoller(
        backends.s3_endpoint, dead_letter_url(backends.s3_endpoint), janitor_handler, JANITOR
    )
    builder = QueuePoller(
        backends.s3_endpoint,
        queue_url_of(backends.s3_endpoint, ARCHIVE_QUEUE),
        importlib.import_module(ARCHIVE_BUILDER.module).handler,
        ARCHIVE_BUILDER,
    )
    sweep_seconds = float(os.environ.get("LOCAL_SWEEP_SECONDS", "3600"))
    sweeper = Schedule(sweep_seconds, janitor_handler)
    purge_seconds = float(os.environ.get("LOCAL_PURGE_SECONDS", "3600"))
    purger = Schedule(purge_seconds, importlib.import_module(PURGE.module).handler, PURGE)
    outbox_seconds = float(os.environ.get("LOCAL_OUTBOX_SECONDS", "60"))
    outbox = Schedule(outbox_seconds, importlib.import_module(OUTBOX.module).handler, OUTBOX)
    workers: list[QueuePoller | Schedule] = [
        poller,
        dead_letters,
        builder,
        sweeper,
        purger,
        outbox,
    ]
    event_log = None
    bus = get_settings().event_bus_name
    events_endpoint = os.environ.get("AWS_ENDPOINT_URL_EVENTBRIDGE")
    if bus and events_endpoint:
        event_log = EventLog(events_endpoint, configure_events(events_endpoint, bus))
        event_log.start()
    for worker in workers:
        worker.start()
    server = serve(host, port, event_log)
    base = f"http://{host}:{port}"
    prefixes = sorted({group.prefix for group in API_GROUPS})
    lines = [f"Assets Registry running at {base}", f"  Console: {base}/console/"]
    for prefix in prefixes:
        lines.append(f"  {base}{prefix}  (docs {base}{prefix}/docs, health {base}{prefix}/health)")
    lines += [
        f"  GraphQL: {base}/registry/graphql",
        f"  ZIP upload: {base}/registry/zip/upload (ingest queue {queue_url})",
        f"  Purge now (admins): POST {base}/local/purge (hourly on its own)",
        f"  Change events (admins): GET {base}/local/events (bus {bus or 'none'})",
        f'  Tokens: POST {base}/local/token with {{"sub", "roles"}}; an admin\'s, for an hour:',
        f"    export TOKEN={admin_token(server)}",
        "Backends (the stack starts clean each time: nothing is kept across a restart):",
        *backends.describe(),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    print("Stopping.", flush=True)
    for worker in workers:
        worker.stop()
    if event_log is not None:
        event_log.stop()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
