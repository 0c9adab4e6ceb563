"""Test-wide setup: offline AWS credentials, the embedded MongoDB reset between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("MONGODB_URI", None)

from assets_core.config import get_settings
from assets_core.stores.documents import mongo_client
from assets_core.stores.objects import object_store, s3_client
from assets_core.stores.registry import assets_store
from assets_core.stores.status import LOCK_PREFIX, STATUS_PREFIX, status_store


@pytest.fixture(autouse=True)
def fresh_database() -> Iterator[None]:
    """Every test starts on an empty database, with the indexes the stores create."""
    client = mongo_client()
    client.drop_database(get_settings().mongodb_database)
    assets_store.cache_clear()
    yield
    client.drop_database(get_settings().mongodb_database)
    assets_store.cache_clear()


@pytest.fixture
def s3() -> Iterator[Any]:
    """S3 on moto, in-process, with the configured bucket; the object store uses it."""
    from moto import mock_aws

    with mock_aws():
        s3_client.cache_clear()
        object_store.cache_clear()
        client = s3_client()
        client.create_bucket(Bucket=get_settings().bucket_name)
        yield client
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
