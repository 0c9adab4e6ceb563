"""The local stand-ins for AWS's parts, each a server process of its own on loopback:
SecantusDB for DocumentDB (a MongoDB wire-protocol server) and LocalStack for S3 and SQS
(signatures, presigned POST policies, checksums and S3 event notifications as AWS does them).

``make run``, the tests and the benchmarks start them through this module; each waits until
its server answers and stops it with SIGTERM, then SIGKILL after a grace period (a server
busy in a long query may ignore SIGTERM)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# LocalStack pins versions of its own, so it lives in an environment of its own (make
# install builds it); LOCALSTACK_PYTHON names another interpreter that has it.
LOCALSTACK_PYTHON = ROOT / ".localstack" / "bin" / "python"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class StandInFailed(RuntimeError):
    """A stand-in did not start; the message says why and what to do."""


@dataclass
class Server:
    """One started stand-in: its address, its process and its data folder."""

    name: str
    address: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path | None = None
    started_seconds: float = 0.0
    _stopped: bool = field(default=False, repr=False)

    def stop(self, grace_seconds: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(
    name: str,
    command: list[str],
    address: str,
    ready: Callable[[], bool],
    *,
    env: dict[str, str] | None = None,
    data_dir: Path | None = None,
    timeout_seconds: float = 90.0,
    cwd: Path | None = None,
) -> Server:
    """``command`` started with its output in a log file of its own, once ``ready()`` says
    it answers (``StandInFailed`` with the log's tail if it exits or runs out of time)."""
    log_dir = Path(tempfile.mkdtemp(prefix=f"assets-{name}-log-"))
    log_path = log_dir / f"{name}.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,  # Ctrl-C in a terminal reaches the stack, which stops it
        )
    server = Server(name, address, process, log_path, data_dir)
    deadline = started + timeout_seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop(grace_seconds=2)
            raise StandInFailed(f"{name} did not start ({' '.join(command)}):\n{server.log_tail()}")
        time.sleep(0.1)
    server.started_seconds = time.monotonic() - started
    return server


def _answers_tcp(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            return False

    return ready


def start_mongodb(storage_path: str = ":memory:", port: int | None = None) -> Server:
    """SecantusDB on loopback; its address is a ``MONGODB_URI``. ``:memory:`` starts clean."""
    executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
    if executable is None:
        raise StandInFailed(
            "secantusd-py is not installed in this environment; run `make install` "
            "(it comes with the development dependencies), or set MONGODB_URI."
        )
    port = port or free_port()
    command = [
        executable,
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        storage_path,
        "--cache-size",
        "256M",
        "--log-level",
        "WARNING",
    ]
    tcp_ready = _answers_tcp(port)
    uri = f"mongodb://{HOST}:{port}/?directConnection=true"

    def ready() -> bool:
        if not tcp_ready():
            return False
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    return start_server("mongodb", command, uri, ready)


def localstack_python() -> str:
    python = os.environ.get("LOCALSTACK_PYTHON") or str(LOCALSTACK_PYTHON)
    if not Path(python).exists():
        raise StandInFailed(
            f"LocalStack's environment is missing ({python}): run `make install`, which "
            "builds .localstack/, or set S3_ENDPOINT_URL to an S3 of your own."
        )
    return python


def start_localstack(
    port: int | None = None, services: str = "s3,sqs,secretsmanager,events"
) -> Server:
    """LocalStack's S3, SQS, Secrets Manager and EventBridge on loopback, its objects in a
    folder of its own (removed when it stops: LocalStack's community edition keeps no state
    across a restart)."""
    python = localstack_python()
    port = port or free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="assets-localstack-"))
    address = f"http://{HOST}:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "UV_"))
    }

    def ready() -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{address}/_localstack/health", timeout=1) as answer:
                body = answer.read().decode()
        except OSError:
            return False
        return all(f'"{service}": "running"' in body for service in services.split(","))

    command = [
        python,
        str(ROOT / "local" / "localstack_server.py"),
        "--port",
        str(port),
        "--data",
        str(data_dir),
        "--services",
        services,
    ]
    return start_server("localstack", command, address, ready, env=env, data_dir=data_dir)
