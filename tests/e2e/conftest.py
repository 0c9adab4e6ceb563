"""The local stack, started as ``make run`` starts it, on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.backends import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stack_url() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("S3_ENDPOINT_URL", "MONGODB_URI")}
    env["PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/registry/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the local stack did not start:\n{output}")
        time.sleep(0.2)
    yield base
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
