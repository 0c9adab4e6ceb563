"""The backends of the local stack, the same stand-ins the tests use (local/stand_ins.py):
SecantusDB for MongoDB, LocalStack for S3, SQS, Secrets Manager and EventBridge, and Redis at
127.0.0.1:6379. Each starts unless its address is configured (``MONGODB_URI``,
``S3_ENDPOINT_URL``, ``REDIS_URL``; Secrets Manager: ``AWS_ENDPOINT_URL_SECRETS_MANAGER``).

The stack starts clean each time: LocalStack's community edition keeps no objects across a
restart, so the metadata is not kept either (never records without their objects)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from assets_core.keys import CREDENTIALS_SECRET_PREFIX
from local.events import LOCAL_BUS
from local.stand_ins import Server, free_port, start_localstack, start_mongodb

__all__ = ["Backends", "free_port", "start_backends"]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# botocore's own variables for one service's endpoint.
SECRETS_ENDPOINT = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
EVENTS_ENDPOINT = "AWS_ENDPOINT_URL_EVENTBRIDGE"

LOCALSTACK_KEY = "test"  # LocalStack's own default pair, not a secret


@dataclass
class Backends:
    s3_endpoint: str
    mongodb: str
    redis: str
    servers: list[Server] = field(default_factory=list)

    def describe(self) -> list[str]:
        started = {server.name: server for server in self.servers}
        lines = []
        for name, address in (("S3/SQS", self.s3_endpoint), ("MongoDB", self.mongodb)):
            server = started.get("localstack" if name == "S3/SQS" else "mongodb")
            how = f"started in {server.started_seconds:.1f} s, clean" if server else "configured"
            lines.append(f"  {name}: {address} ({how})")
        lines.append(f"  Redis: {self.redis}")
        return lines

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()


def start_backends(environ: dict[str, str] | None = None) -> Backends:
    """Start what is not configured and export its address, before any settings are read."""
    env = os.environ if environ is None else environ
    if not env.get("S3_ENDPOINT_URL"):
        # LocalStack checks every signature, presigned URLs too, with the secret "test" for
        # any access key it has not been given: the stack signs with that pair.
        env.update({"AWS_ACCESS_KEY_ID": LOCALSTACK_KEY, "AWS_SECRET_ACCESS_KEY": LOCALSTACK_KEY})
        env.pop("AWS_SESSION_TOKEN", None)
    env.setdefault("AWS_ACCESS_KEY_ID", LOCALSTACK_KEY)
    env.setdefault("AWS_SECRET_ACCESS_KEY", LOCALSTACK_KEY)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")  # what the stack sets
    servers: list[Server] = []
    try:
        if not env.get("S3_ENDPOINT_URL"):
            server = start_localstack()
            servers.append(server)
            env["S3_ENDPOINT_URL"] = server.address
            env.setdefault(SECRETS_ENDPOINT, server.address)
            # Change events go to LocalStack's EventBridge, on the bus AWS would have.
            env.setdefault(EVENTS_ENDPOINT, server.address)
            env.setdefault("EVENT_BUS_NAME", LOCAL_BUS)
        if not env.get("MONGODB_URI"):
            server = start_mongodb()
            servers.append(server)
            env["MONGODB_URI"] = server.address
        if env.get(SECRETS_ENDPOINT):  # credentials in Secrets Manager, as in AWS
            env.setdefault("CREDENTIALS_SECRET_PREFIX", CREDENTIALS_SECRET_PREFIX)
        _ensure_bucket(env["S3_ENDPOINT_URL"], env.get("BUCKET_NAME", "assets-registry"))
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = DEFAULT_REDIS_URL
        _check_redis(env["REDIS_URL"])
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return Backends(env["S3_ENDPOINT_URL"], env["MONGODB_URI"], env["REDIS_URL"], servers)


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
            f"Redis at {url} does not answer ({exc}): start a Redis server there "
            "(apt-get install redis-server) or set REDIS_URL to one."
        ) from exc
