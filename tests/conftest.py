"""Test-wide setup, in production's conditions: the log level the stack sets, a MongoDB
wire-protocol server (SecantusDB) for the metadata, LocalStack's S3 and SQS for the objects
and its Secrets Manager for credentials, Redis at ``REDIS_URL``; one of each for the whole
session, reset between tests.

``TEST_MONGODB_URI`` / ``TEST_S3_ENDPOINT_URL`` / ``TEST_SECRETS_ENDPOINT_URL`` point the
session at servers of your own instead (a real MongoDB, another S3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.update(
    {
        # LocalStack checks every signature (presigned URLs too) with the secret "test".
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        # What the stack sets (infra_cdk's function construct); a test checks they agree.
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
for _name in ("MONGODB_URI", "S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
    os.environ.pop(_name, None)

from assets_core.config import get_settings
from assets_core.keys import CREDENTIALS_SECRET_PREFIX
from assets_core.stores import factory
from assets_core.stores.documents import mongo_client
from assets_core.stores.objects import object_store, s3_client
from assets_core.stores.status import LOCK_PREFIX, STATUS_PREFIX, status_store
from assets_core.stores.vault import credentials_vault
from local.stand_ins import Server, start_localstack, start_mongodb

_servers: list[Server] = []
# Every store built once per process; each is forgotten between tests so that the next one
# builds it again on the fresh database, with its indexes.
CACHED_STORES = (
    factory.assets_store,
    factory.versions_store,
    factory.blobs_store,
    factory.components_store,
    factory.components_graph_store,
    factory.assetdb_store,
    factory.dbregistry_store,
    factory.audit_trail,
    factory.lineage_store,
)


SUITES = ("unit", "integration", "infra", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries its suite's marker, from its folder (``-m unit``, ``-m "not e2e"``)."""
    for item in items:
        suite = item.path.parent.name
        if suite in SUITES:
            item.add_marker(getattr(pytest.mark, suite))


def pytest_configure(config: pytest.Config) -> None:
    """Start the session's MongoDB and S3/SQS before any setting is read."""
    if hasattr(config, "workerinput"):  # pragma: no cover - no xdist here
        return
    mongodb = os.environ.get("TEST_MONGODB_URI")
    if not mongodb:
        server = start_mongodb()
        _servers.append(server)
        mongodb = server.address
    s3 = os.environ.get("TEST_S3_ENDPOINT_URL")
    if not s3:
        server = start_localstack()
        _servers.append(server)
        s3 = server.address
    os.environ["MONGODB_URI"] = mongodb
    os.environ["S3_ENDPOINT_URL"] = s3
    # As the stack deploys: credentials in Secrets Manager (LocalStack's, unless told).
    os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = os.environ.get("TEST_SECRETS_ENDPOINT_URL", s3)
    os.environ["CREDENTIALS_SECRET_PREFIX"] = CREDENTIALS_SECRET_PREFIX
    get_settings.cache_clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in _servers:
        server.stop()
    _servers.clear()


def forget_stores() -> None:
    for cached in CACHED_STORES:
        cached.cache_clear()
    credentials_vault.cache_clear()


@pytest.fixture(autouse=True)
def fresh_database() -> Iterator[None]:
    """Every test starts on an empty database, with the indexes the stores create."""
    client = mongo_client()
    client.drop_database(get_settings().mongodb_database)
    forget_stores()
    yield
    client.drop_database(get_settings().mongodb_database)
    forget_stores()


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete every object and abort every multipart upload of a bucket."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def s3() -> Iterator[Any]:
    """The session's S3 (LocalStack) with the configured bucket, empty; the object store uses
    it. The bucket is emptied again afterwards."""
    s3_client.cache_clear()
    object_store.cache_clear()
    client = s3_client()
    bucket = get_settings().bucket_name
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    empty_bucket(client, bucket)
    yield client
    empty_bucket(client, bucket)
    s3_client.cache_clear()
    object_store.cache_clear()


@pytest.fixture
def status(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The status store on Redis at REDIS_URL (fakeredis without it). Upload ids are random,
    so tests share the server safely; each test removes only the keys it wrote, never another
    run's (a developer's tests and CI may use the same Redis at once)."""
    store = status_store()
    written: set[str] = set()
    put, lock = store.put, store.lock

    def recording_put(upload_id: str, record: dict[str, Any]) -> None:
        written.add(upload_id)
        put(upload_id, record)

    def recording_lock(upload_id: str, seconds: int) -> str | None:
        written.add(upload_id)
        return lock(upload_id, seconds)

    monkeypatch.setattr(store, "put", recording_put)
    monkeypatch.setattr(store, "lock", recording_lock)
    yield store
    for upload_id in written:
        store.client.delete(STATUS_PREFIX + upload_id, LOCK_PREFIX + upload_id)
