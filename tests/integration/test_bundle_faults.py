"""Faults that are the client's, not an outage: S3 refusing a request for what it asks, and an
asset whose files[] repeats an asset_file_id. Each ends in a refusal (``failed: <reason>`` at
ingest, 400 over REST) rather than a retry; S3 is LocalStack, as everywhere."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from assets_core.config import get_settings
from assets_core.errors import AppError, StoreUnavailable
from assets_core.stores.factory import assets_store
from assets_core.stores.objects import S3ObjectStore
from functions.ingest import handler as ingest_module
from functions.registry_write.handler import handler as write_handler
from tests.integration.test_ingest import run, status_of, stored_keys, upload
from tests.support import bundle_asset, event, invoke, make_asset, zip_bytes

BUCKET = get_settings().bucket_name
# The key ingest gives a member: assets/<asset_id>/<upload_id>/<path>, the id a UUID.
PREFIX_BYTES = len("assets/bundle-001/") + 36 + 1
MAX_KEY_BYTES = 1024


def long_path(key_bytes: int) -> str:
    """A member path whose key is ``key_bytes`` bytes of UTF-8 and far fewer characters."""
    pad = key_bytes - PREFIX_BYTES - len("d/.bin")
    return "d/" + "é" * (pad // 2) + "x" * (pad % 2) + ".bin"


def failed(upload_id: str) -> str:
    record = status_of(upload_id)
    assert record["status"].startswith("failed: "), record
    reason: str = record["status"]
    return reason


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys ingest asks S3 to store members under (single PUTs and multipart uploads)."""
    keys: list[str] = []
    put, start = S3ObjectStore.put, S3ObjectStore.start_multipart

    def recording_put(self: S3ObjectStore, key: str, *args: Any, **kwargs: Any) -> None:
        if key.startswith("assets/"):
            keys.append(key)
        put(self, key, *args, **kwargs)

    def recording_start(self: S3ObjectStore, key: str, content_type: str) -> str:
        keys.append(key)
        return start(self, key, content_type)

    monkeypatch.setattr(S3ObjectStore, "put", recording_put)
    monkeypatch.setattr(S3ObjectStore, "start_multipart", recording_start)
    return keys


# -- keys S3 cannot hold ---------------------------------------------------------------------


@pytest.mark.usefixtures("status")
def test_member_whose_key_exceeds_1024_bytes_fails_before_anything_is_stored(
    s3: Any, writes: list[str]
) -> None:
    # Given a bundle whose second member would get a 1,025-byte key (543 characters)
    path = long_path(MAX_KEY_BYTES + 1)
    members = {"a.txt": b"first", path: b"weights"}
    upload_id = upload(zip_bytes(members, asset=bundle_asset()))
    # When it is ingested
    result = run(upload_id)
    # Then it is refused, not retried, naming the member, and nothing was written at all
    assert result == {"batchItemFailures": []}, "a refused bundle is not retried"
    reason = failed(upload_id)
    assert path in reason
    assert "1024" in reason
    assert writes == []
    assert stored_keys(s3) == []
    assert assets_store().count({}) == 0


@pytest.mark.usefixtures("status")
def test_member_whose_key_is_exactly_1024_bytes_is_stored(s3: Any) -> None:
    path = long_path(MAX_KEY_BYTES)
    upload_id = upload(zip_bytes({path: b"weights"}, asset=bundle_asset()))
    assert run(upload_id) == {"batchItemFailures": []}
    assert status_of(upload_id)["status"] == "success"
    (key,) = stored_keys(s3)
    assert len(key.encode()) == MAX_KEY_BYTES


@pytest.mark.usefixtures("status")
def test_store_refusing_a_member_fails_the_bundle_instead_of_retrying_it(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ingest's own key check switched off, so that S3 itself refuses the long key
    configured = ingest_module.limits
    monkeypatch.setattr(
        ingest_module,
        "limits",
        lambda: dataclasses.replace(configured(), max_key_bytes=10 * MAX_KEY_BYTES),
    )
    path = long_path(MAX_KEY_BYTES + 1)
    members = {"a.bin": os.urandom(50_000), path: b"weights"}
    upload_id = upload(zip_bytes(members, asset=bundle_asset()))
    # When it is ingested
    result = run(upload_id)
    # Then S3's KeyTooLongError ends the upload as failed, naming the member, with no retry
    assert result == {"batchItemFailures": []}, "the store's refusal is not an outage"
    reason = failed(upload_id)
    assert path in reason
    assert "KeyTooLongError" in reason
    assert stored_keys(s3) == [], "what was stored before the refusal is removed"
    assert assets_store().count({}) == 0


# -- the object store's answers: the request's fault, or an outage ---------------------------


def test_key_too_long_is_a_refusal_not_an_outage(s3: Any) -> None:
    objects = S3ObjectStore(s3, BUCKET)
    with pytest.raises(AppError) as raised:
        objects.put("k" * (MAX_KEY_BYTES + 1), b"x")
    assert not isinstance(raised.value, StoreUnavailable)
    assert raised.value.status == 400
    assert raised.value.code == "OBJECT_REFUSED"
    assert "KeyTooLongError" in raised.value.message


def test_invalid_argument_and_unsatisfiable_range_are_refusals(s3: Any) -> None:
    objects = S3ObjectStore(s3, BUCKET)
    objects.put("small", b"x")
    upload = objects.start_multipart("big", "application/octet-stream")
    with pytest.raises(AppError) as raised:
        objects.upload_part("big", upload, 10_001, b"abc")
    assert raised.value.code == "OBJECT_REFUSED"
    assert "InvalidArgument" in raised.value.message
    objects.abort_multipart("big", upload)
    with pytest.raises(AppError) as raised:
        objects.read_range("small", 100, 200)
    assert raised.value.code == "OBJECT_REFUSED"


def test_missing_bucket_stays_an_outage(s3: Any) -> None:
    with pytest.raises(StoreUnavailable):
        S3ObjectStore(s3, "no-such-bucket-here").put("a", b"x")


def stubbed_client() -> Any:
    return botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize(
    ("code", "http_status", "refused"),
    [
        ("InvalidArgument", 400, True),
        ("KeyTooLongError", 400, True),
        ("EntityTooLarge", 400, True),
        ("EntityTooSmall", 400, True),
        ("InvalidRequest", 400, True),
        ("MetadataTooLarge", 400, True),
        ("InternalError", 500, False),
        ("ServiceUnavailable", 503, False),
        ("SlowDown", 503, False),
        ("Throttling", 400, False),
        ("RequestTimeout", 400, False),
        ("ExpiredToken", 400, False),
        ("BadDigest", 400, False),
        ("AccessDenied", 403, False),
        ("OperationAborted", 409, False),
        ("TooManyRequests", 429, False),
    ],
)
def test_only_the_requests_own_faults_are_refusals(
    code: str, http_status: int, refused: bool
) -> None:
    client = stubbed_client()
    with Stubber(client) as stub:
        stub.add_client_error("put_object", service_error_code=code, http_status_code=http_status)
        with pytest.raises(AppError) as raised:
            S3ObjectStore(client, BUCKET).put("a", b"x")
    if refused:
        assert raised.value.code == "OBJECT_REFUSED", raised.value
        assert raised.value.status == 400
    else:
        assert isinstance(raised.value, StoreUnavailable), raised.value


def test_no_answer_stays_an_outage() -> None:
    client = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(StoreUnavailable):
        S3ObjectStore(client, BUCKET).put("a", b"x")


# -- files[] repeating an asset_file_id ------------------------------------------------------


def file_entry(file_id: str, path: str) -> dict[str, Any]:
    return {
        "asset_file_id": file_id,
        "asset_file_type": "file",
        "asset_file_mime_type": "application/octet-stream",
        "asset_file_url": f"https://files.example.com/elsewhere/{path}",
        "asset_file_metadata": {"path": path},
    }


@pytest.mark.usefixtures("status")
def test_bundle_repeating_an_asset_file_id_fails_with_nothing_stored(
    s3: Any, writes: list[str]
) -> None:
    # Given an asset.json whose files[] gives two members the id 'weights'
    entries = [
        {"asset_file_id": "weights", "asset_file_metadata": {"path": "a.bin"}},
        {"asset_file_id": "weights", "asset_file_metadata": {"path": "b.bin"}},
        {"asset_file_id": "config", "asset_file_metadata": {"path": "c.json"}},
    ]
    members = {"a.bin": b"a", "b.bin": b"b", "c.json": b"{}"}
    upload_id = upload(zip_bytes(members, asset=bundle_asset(files=entries)))
    # When it is ingested
    assert run(upload_id) == {"batchItemFailures": []}
    # Then it is refused naming the repeated id, and nothing is stored or registered
    reason = failed(upload_id)
    assert "'weights'" in reason
    assert "'config'" not in reason
    assert writes == []
    assert stored_keys(s3) == []
    assert assets_store().count({}) == 0


@pytest.mark.usefixtures("status")
def test_bundle_member_colliding_with_a_declared_asset_file_id_fails(s3: Any) -> None:
    # 'notes.txt' is not named in files[], so ingest would give it the id 'notes.txt' too
    entries = [{"asset_file_id": "notes.txt", "asset_file_metadata": {"path": "a.bin"}}]
    upload_id = upload(
        zip_bytes({"a.bin": b"a", "notes.txt": b"n"}, asset=bundle_asset(files=entries))
    )
    run(upload_id)
    assert "'notes.txt'" in failed(upload_id)
    assert stored_keys(s3) == []


def test_post_repeating_an_asset_file_id_is_400_naming_it() -> None:
    files = [
        file_entry("weights", "a.bin"),
        file_entry("weights", "b.bin"),
        file_entry("tok", "t.json"),
        file_entry("tok", "u.json"),
        file_entry("config", "c.json"),
    ]
    asset = make_asset(files=files, asset_file_ids=["weights", "tok", "config"])
    status, body = invoke(write_handler, event("apigw_registry_post_assets", body=asset))
    assert status == 400, body
    assert body["error"]["code"] == "INVALID_INPUT"
    message = body["error"]["message"]
    assert "'weights'" in message
    assert "'tok'" in message
    assert "'config'" not in message
    assert assets_store().count({}) == 0


def test_a_version_repeating_an_asset_file_id_is_400_and_keeps_the_asset() -> None:
    original = make_asset(files=[file_entry("weights", "a.bin")], asset_file_ids=["weights"])
    assert invoke(write_handler, event("apigw_registry_post_assets", body=original))[0] == 201
    repeated = make_asset(
        asset_version="v2",
        files=[file_entry("weights", "a.bin"), file_entry("weights", "b.bin")],
        asset_file_ids=["weights"],
    )
    status, body = invoke(write_handler, event("apigw_registry_post_version", body=repeated))
    assert status == 400, body
    assert body["error"]["code"] == "INVALID_INPUT"
    assert "'weights'" in body["error"]["message"]
    stored = assets_store().get("asset-001")
    assert stored is not None
    assert [f["asset_file_metadata"]["path"] for f in stored["files"]] == ["a.bin"]


def test_put_changing_files_is_400_naming_the_versions_route() -> None:
    original = make_asset(files=[file_entry("weights", "a.bin")], asset_file_ids=["weights"])
    assert invoke(write_handler, event("apigw_registry_post_assets", body=original))[0] == 201
    patch = {"files": [file_entry("weights", "b.bin")]}
    status, body = invoke(write_handler, event("apigw_registry_put_asset", body=patch))
    assert (status, body["error"]["code"]) == (400, "VERSION_IMMUTABLE")
    assert "/registry/assets/asset-001/versions" in body["error"]["message"]


def test_distinct_asset_file_ids_are_still_accepted() -> None:
    files = [file_entry("weights", "a.bin"), file_entry("config", "c.json")]
    asset = make_asset(files=files, asset_file_ids=["weights", "config"])
    status, body = invoke(write_handler, event("apigw_registry_post_assets", body=asset))
    assert status == 201, body
