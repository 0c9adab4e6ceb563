"""The local gateway runs one request at a time per function, as a Lambda execution
environment does: a powertools resolver keeps the current event in module state, and the
gateway's threads crossed events and answers under load (a stylesheet answered as script)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from typing import Any

import httpx

from assets_core.routes import API_GROUPS
from local.gateway import Gateway, make_request_handler
from local.stand_ins import free_port


class Counting:
    """A handler that records how many calls overlap."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        return {"statusCode": 200, "headers": {}, "body": json.dumps({"ok": True})}


def test_one_function_never_serves_two_requests_at_once() -> None:
    group = next(g for g in API_GROUPS if g.name == "registry_query")
    gateway = Gateway()
    fake = Counting()
    gateway.handlers[group.name] = fake
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), make_request_handler(gateway))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http,
            ThreadPoolExecutor(max_workers=8) as pool,
        ):
            codes = list(pool.map(lambda _: http.get("/registry/health").status_code, range(8)))
    finally:
        server.shutdown()
    assert codes == [200] * 8
    assert fake.most == 1
