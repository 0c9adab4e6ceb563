"""Errors from S3 and Secrets Manager answer without the endpoint, the bucket's
address or the secret's ARN (botocore's text names them); the log keeps the detail."""

from __future__ import annotations

import logging

import botocore.session
import pytest
from botocore.config import Config

from assets_core.errors import StoreUnavailable
from assets_core.stores.objects import S3ObjectStore
from assets_core.stores.secrets import secret_string

CLOSED = "http://127.0.0.1:9"  # discard: nothing listens
QUICK = Config(connect_timeout=1, retries={"max_attempts": 1}, region_name="us-east-1")


def test_an_unreachable_object_store_is_not_named_to_the_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=CLOSED,
        config=QUICK,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store = S3ObjectStore(client, "bucket")
    with caplog.at_level(logging.ERROR), pytest.raises(StoreUnavailable) as failed:
        store.size("assets/a/b")
    assert failed.value.message == "The object store did not answer; try again."
    assert "127.0.0.1" in caplog.text  # the detail is logged


def test_an_unreadable_secret_is_not_named_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", CLOSED)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "1")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    secret_string.cache_clear()
    with pytest.raises(StoreUnavailable) as failed:
        secret_string(arn)
    assert "arn:" not in failed.value.message
    assert "127.0.0.1" not in failed.value.message
