"""Uploads bound to the SHA-256 their client declared (the contract's "Large and verified
uploads", single requests): LocalStack, like S3, computes the checksum of a POST's body and
refuses one that does not match the policy's; ingest compares the stored checksum again."""

from __future__ import annotations

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


def send(ticket: dict[str, Any], data: bytes) -> httpx.Response:
    return httpx.post(ticket["url"], data=ticket["fields"], files={"file": data})


def test_a_bundle_with_its_declared_sha256_is_stored_and_ingested(s3: Any) -> None:
    bundle = zip_bytes({"a.txt": b"a" * 500}, asset=bundle_asset("sha-ok"))
    digest = hashlib.sha256(bundle).hexdigest()
    upload_id, ticket = ticket_for({"size": len(bundle), "sha256": digest})
    assert ticket["fields"]["x-amz-checksum-algorithm"] == "SHA256"
    assert send(ticket, bundle).status_code == 204
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
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"incoming/{upload_id}").get("KeyCount") == 0
    # and without the checksum fields the policy refuses the POST itself
    fields = {k: v for k, v in ticket["fields"].items() if "checksum" not in k}
    stripped = httpx.post(ticket["url"], data=fields, files={"file": bundle})
    assert stripped.status_code == 403, stripped.text


def test_ingest_refuses_a_bundle_stored_without_the_declared_checksum(s3: Any) -> None:
    bundle = zip_bytes({"a.txt": b"a" * 500}, asset=bundle_asset("sha-side"))
    upload_id, _ = ticket_for({"sha256": hashlib.sha256(b"other").hexdigest()})
    s3.put_object(Bucket=BUCKET, Key=f"incoming/{upload_id}.zip", Body=bundle)
    run(upload_id)
    status = status_of(upload_id)["status"]
    assert status.startswith("failed: the bundle's SHA-256 is"), status


@pytest.mark.parametrize("bad", ["ABC", "g" * 64, "A" * 64, "a" * 63, 7])
def test_a_malformed_sha256_is_400(bad: object) -> None:
    status, answer = invoke(
        zip_handler, event("apigw_registry_zip_upload_presigned", body={"sha256": bad})
    )
    assert status == 400, answer


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
    assert send(ticket, b"x" * len(data)).status_code == 400
    assert send(ticket, data).status_code == 204
