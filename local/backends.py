"""The embedded backends of the local stack: moto's S3 (and SQS) server in a thread, Redis or
fakeredis, and mongomock (created in-process by the document store)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Backends:
    s3_endpoint: str
    mongodb: str
    redis: str
    moto_server: Any | None = None

    def stop(self) -> None:
        if self.moto_server is not None:
            self.moto_server.stop()


def start_backends(environ: dict[str, str] | None = None) -> Backends:
    """Start what is not configured and export its address, before any settings are read."""
    env = os.environ if environ is None else environ
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    moto_server = None
    if not env.get("S3_ENDPOINT_URL"):
        from moto.server import ThreadedMotoServer

        port = free_port()
        moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto_server.start()
        env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    _ensure_bucket(env["S3_ENDPOINT_URL"], env.get("BUCKET_NAME", "assets-registry"))
    mongodb = env.get("MONGODB_URI") or "mongomock (in-process)"
    redis = env.get("REDIS_URL") or "fakeredis (in-process)"
    if env.get("REDIS_URL"):
        _check_redis(env["REDIS_URL"])
    return Backends(env["S3_ENDPOINT_URL"], mongodb, redis, moto_server)


def _ensure_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)


def _check_redis(url: str) -> None:
    """Fail at start, with the address, when the configured Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise SystemExit(
            f"REDIS_URL={url} does not answer ({exc}); unset it to use fakeredis."
        ) from exc
