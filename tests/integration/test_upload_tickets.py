"""Presigned upload tickets through LocalStack, which enforces their POST policies: a declared
size is the only size the object store accepts, and a ticket used twice leaves a record that
describes the bytes the store holds."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from assets_core.config import get_settings
from functions.assetdb.handler import handler as assetdb_handler
from functions.ingest.handler import ingest
from functions.registry_zip.handler import handler as zip_handler
from local.apigw import LocalContext
from tests.support import event, invoke, object_created

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name
DECLARED = 1000


def send(ticket: dict[str, Any], data: bytes) -> httpx.Response:
    """The file posted to a presigned ticket as a browser form: every field, then the file."""
    return httpx.post(ticket["url"], data=ticket["fields"], files={"file": data})


def zip_ticket(size: int) -> dict[str, Any]:
    status, answer = invoke(
        zip_handler, event("apigw_registry_zip_upload_presigned", body={"size": size})
    )
    assert status == 202, answer
    ticket: dict[str, Any] = answer["upload"]
    return ticket


def assetdb_ticket(size: int, name: str) -> dict[str, Any]:
    body = {
        "filename": "weights.bin",
        "size": size,
        "asset_metadata": {"asset_name": name, "asset_version": {"version": "1.0", "tag": "a"}},
    }
    status, created = invoke(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=body)
    )
    assert status == 201, created
    return created


def assert_only_the_declared_size_is_stored(
    s3: Any, ticket: dict[str, Any], key: str, fill: bytes
) -> None:
    # When a larger and a smaller body are sent, then the object store refuses both
    for wrong in (DECLARED * 3000, DECLARED + 1, DECLARED - 1):
        refused = send(ticket, fill * wrong)
        assert refused.status_code == 400, (wrong, refused.text)
        assert "EntityToo" in refused.text
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount") == 0

    # And the declared size is accepted
    assert send(ticket, fill * DECLARED).status_code == 204
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == DECLARED


def test_a_zip_ticket_accepts_only_the_declared_size(s3: Any) -> None:
    # Given a presigned ZIP upload for a declared 1000-byte bundle
    ticket = zip_ticket(DECLARED)
    assert_only_the_declared_size_is_stored(s3, ticket, ticket["fields"]["key"], b"z")


def test_an_assetdb_ticket_accepts_only_the_declared_size(s3: Any) -> None:
    # Given a presigned Assets DB upload for a declared 1000-byte file
    created = assetdb_ticket(DECLARED, "Sized")
    key = created["asset_file_info"]["key"]
    assert_only_the_declared_size_is_stored(s3, created["upload"], key, b"a")


def test_a_reused_assetdb_ticket_leaves_a_record_of_the_stored_bytes(s3: Any) -> None:
    # Given an Assets DB upload whose file arrived and was recorded
    created = assetdb_ticket(DECLARED, "Reused")
    ticket, key, asset_id = (
        created["upload"],
        created["asset_file_info"]["key"],
        created["asset_id"],
    )
    first, second = b"1" * DECLARED, b"2" * DECLARED
    assert send(ticket, first).status_code == 204
    assert ingest(object_created(key), LocalContext("ingest")) == {"batchItemFailures": []}
    by_id = event(
        "apigw_assetdb_get_asset",
        path=f"/assetdb/asset-by-id/{asset_id}",
        path_parameters={"asset_id": asset_id},
    )
    by_id["routeKey"] = "GET /assetdb/asset-by-id/{asset_id}"
    _, record = invoke(assetdb_handler, by_id)
    assert record["asset_file_info"]["sha256"] == hashlib.sha256(first).hexdigest()

    # When the still-valid ticket is used again with other bytes of the same size
    assert send(ticket, second).status_code == 204
    assert ingest(object_created(key), LocalContext("ingest")) == {"batchItemFailures": []}

    # Then the record describes the bytes the object store now holds: the second object
    # replaced the first under the same key (S3 cannot keep both), so the record is recomputed
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == second
    _, record = invoke(assetdb_handler, by_id)
    info = record["asset_file_info"]
    assert info["sha256"] == hashlib.sha256(stored).hexdigest()
    assert info["md5"] == hashlib.md5(stored, usedforsecurity=False).hexdigest()
    assert (info["status"], info["size"]) == ("available", len(stored))

    # And the same event delivered again changes nothing
    assert ingest(object_created(key), LocalContext("ingest")) == {"batchItemFailures": []}
    assert invoke(assetdb_handler, by_id)[1]["asset_file_info"] == info
