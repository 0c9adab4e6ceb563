"""Test-wide setup: offline AWS credentials, the embedded MongoDB reset between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

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
from assets_core.stores.registry import assets_store


@pytest.fixture(autouse=True)
def fresh_database() -> Iterator[None]:
    """Every test starts on an empty database, with the indexes the stores create."""
    client = mongo_client()
    client.drop_database(get_settings().mongodb_database)
    assets_store.cache_clear()
    yield
    client.drop_database(get_settings().mongodb_database)
    assets_store.cache_clear()
