"""Uploads bound to the SHA-256 their client declared (the contract's "Large and verified
uploads", single requests): the ticket is a presigned PUT whose size and checksum are signed
headers; LocalStack, like S3, computes the body's checksum and refuses one that does not
match; ingest compares the stored checksum again."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from assets_core.config import get_settings
from functions.assetdb.handler import handler as assetdb_handler
from functions.registry_zip.handler import handler as zip_handler
from tests.integration.test_ingest import run, status_of
from tests.support import bundle_asset, event, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def ticket_for(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    status, answer = invoke(zip_handler, event("apigw_registry_zip_upload_presigned", body=body))
    assert status == 202, answer
    return answer["upload_id"], answer["upload"]


def send(ticket: dict[str, Any], data: bytes, **headers: str) -> httpx.Response:
    if ticket["method"] == "PUT":
        sent = {**ticket["headers"], **headers}
        sent["Content-Length"] = str(len(data))
        return httpx.put(ticket["url"], content=data, headers=sent)
    return httpx.post(ticket["url"], data=ticket["fields"], files={"file": data})


def test_a_bundle_with_its_declared_sha256_is_stored_and_ingested(s3: Any) -> None:
    bundle = zip_bytes({"a.txt": b"a" * 500}, asset=bundle_asset("sha-ok"))
    digest = hashlib.sha256(bundle).hexdigest()
    upload_id, ticket = ticket_for({"size": len(bundle), "sha256": digest})
    assert ticket["method"] == "PUT"
    assert set(ticket["headers"]) == {"Content-Length", "x-amz-checksum-sha256"}
    assert send(ticket, bundle).status_code == 200
    run(upload_id)
    assert status_of(upload_id)["status"] == "success"


def test_other_bytes_of_the_same_size_are_refused_by_the_store(s3: Any) -> None:
    bundle = zip_bytes({"a.txt": b"a" * 500}, asset=bundle_asset("sha-bad"))
    upload_id, ticket = ticket_for(
        {"size": len(bundle), "sha256": hashlib.sha256(bundle).hexdigest()}
    )
    tampered = bundle[:-1] + bytes([bundle[-1] ^ 1])
    refused = send(ticket, tampered)
    assert refused.status_code == 400, refused.text
    assert "BadDigest" in refused.text
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"incoming/{upload_id}").get("KeyCount") == 0
    # without the checksum header, or with another, the signature refuses the PUT itself
    stripped = httpx.put(ticket["url"], content=tampered)
    assert stripped.status_code == 403, stripped.text
    other = hashlib.sha256(tampered).digest()
    swapped = send(ticket, tampered, **{"x-amz-checksum-sha256": base64.b64encode(other).decode()})
    assert swapped.status_code == 403, swapped.text
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"incoming/{upload_id}").get("KeyCount") == 0


def test_ingest_refuses_a_bundle_stored_without_the_declared_checksum(s3: Any) -> None:
    bundle = zip_bytes({"a.txt": b"a" * 500}, asset=bundle_asset("sha-side"))
    upload_id, _ = ticket_for({"size": 5, "sha256": hashlib.sha256(b"other").hexdigest()})
    s3.put_object(Bucket=BUCKET, Key=f"incoming/{upload_id}.zip", Body=bundle)
    run(upload_id)
    status = status_of(upload_id)["status"]
    assert status.startswith("failed: the bundle's SHA-256 is"), status


@pytest.mark.parametrize("bad", ["ABC", "g" * 64, "A" * 64, "a" * 63, 7])
def test_a_malformed_sha256_is_400(bad: object) -> None:
    status, answer = invoke(
        zip_handler, event("apigw_registry_zip_upload_presigned", body={"sha256": bad, "size": 9})
    )
    assert status == 400, answer


def test_a_sha256_without_its_size_is_400() -> None:
    status, answer = invoke(
        zip_handler, event("apigw_registry_zip_upload_presigned", body={"sha256": "a" * 64})
    )
    assert (status, answer["error"]["code"]) == (400, "SIZE_REQUIRED")


def test_an_assets_db_file_with_its_sha256_is_refused_other_bytes(s3: Any) -> None:
    data = b"w" * 2000
    body = {
        "filename": "w.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "asset_metadata": {"asset_name": "W", "asset_version": {"version": "1", "tag": "a"}},
    }
    status, created = invoke(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=body)
    )
    assert status == 201, created
    ticket = created["upload"]
    assert ticket["method"] == "PUT"
    assert send(ticket, b"x" * len(data)).status_code == 400
    assert send(ticket, data).status_code == 200
