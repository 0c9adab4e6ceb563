"""The local stack, started as ``make run`` starts it, on a free port, on the session's
LocalStack so tests can reach the stored objects directly."""

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
E2E_BUCKET = "assets-e2e"
E2E_STREAM_MAX_BYTES = 8_000_000  # past it a ZIP is assembled in S3 (150 MB in AWS)


def _wait(process: subprocess.Popen[bytes], log: Path, url: str, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{what} did not start:\n{log.read_text(errors='replace')[-20_000:]}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """The session's LocalStack (tests/conftest.py started it); the stack keeps its objects in
    a bucket of its own, so the integration tests' bucket resets never touch them."""
    return os.environ["S3_ENDPOINT_URL"]


@pytest.fixture(scope="session")
def stack_url(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The stack as `make run` starts it: its own SecantusDB (the tests' database is dropped
    between tests, and the stack's stores keep their indexes), the session's LocalStack. Its
    output (the functions' JSON logs and metrics) goes to a file: a pipe nobody reads fills
    up, and the stack then stops at its next log line."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env.update({"PORT": str(port), "S3_ENDPOINT_URL": s3_endpoint, "BUCKET_NAME": E2E_BUCKET})
    # ZIPs past 8 MB are assembled in S3 (150 MB in AWS): a few MiB exercise both paths.
    env["STREAM_MAX_BYTES"] = str(E2E_STREAM_MAX_BYTES)
    # Its change events go to the session LocalStack's EventBridge, as make run's do.
    env.update({"AWS_ENDPOINT_URL_EVENTBRIDGE": s3_endpoint, "EVENT_BUS_NAME": "e2e-events"})
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    _wait(process, log, f"{base}/registry/health", "the local stack")
    yield base
    _stop(process)
