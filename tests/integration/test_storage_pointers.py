"""Storage pointers are the server's: a client cannot point a file entry at an object in the
deployment's bucket (another asset's files would then download as its own), cannot drop or
change the entries of the files an upload stored, and cannot set an Assets DB record's stored
file (whose key would name another record's object, to read and then delete)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.identity import Caller
from functions.assetdb.handler import handler as assetdb_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from tests.integration.test_assetdb import upload as assetdb_upload
from tests.integration.test_ingest import run, upload
from tests.support import bundle_asset, event, invoke, make_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def stored_entry(asset_id: str = "victim-1") -> dict[str, Any]:
    return {
        "asset_file_id": "weights",
        "asset_file_type": "model",
        "asset_file_mime_type": "application/octet-stream",
        "asset_file_url": f"s3://{BUCKET}/assets/{asset_id}/some-upload/weights.bin",
    }


def create(document: dict[str, Any]) -> tuple[int, Any]:
    return invoke(write_handler, event("apigw_registry_post_assets", body=document))


def put(asset_id: str, body: dict[str, Any], by: Caller | None = None) -> tuple[int, Any]:
    """``PUT /registry/assets/{asset_id}`` with ``body``, as ``by`` (the events' admin)."""
    request = event(
        "apigw_registry_put_asset",
        path=f"/registry/assets/{asset_id}",
        path_parameters={"asset_id": asset_id},
        body=body,
        caller=by,
    )
    return invoke(write_handler, request)


@pytest.mark.parametrize("scheme", ["s3", "S3"])
def test_a_new_asset_cannot_point_a_file_into_the_bucket(scheme: str) -> None:
    entry = stored_entry()
    entry["asset_file_url"] = entry["asset_file_url"].replace("s3", scheme, 1)
    document = make_asset("attacker-1", files=[entry], asset_file_ids=["weights"])
    status, body = create(document)
    assert (status, body["error"]["code"]) == (400, "STORED_FILE_REFUSED")
    assert "files[0].asset_file_url" in body["error"]["message"]


def test_an_external_file_url_is_kept() -> None:
    entry = {**stored_entry(), "asset_file_url": "https://example.com/weights.bin"}
    status, body = create(make_asset("external-1", files=[entry], asset_file_ids=["weights"]))
    assert status == 201
    assert body["files"][0]["asset_file_url"] == "https://example.com/weights.bin"


def test_an_update_cannot_repoint_or_drop_the_files_an_upload_stored() -> None:
    # Given an asset whose file an upload stored
    run(upload(zip_bytes({"w.bin": b"real weights"}, asset=bundle_asset("victim-1"))))
    _, current = invoke(
        query_handler,
        event(
            "apigw_registry_get_asset",
            path="/registry/assets/victim-1",
            path_parameters={"asset_id": "victim-1"},
        ),
    )
    files = current["files"]
    stored = [f for f in files if f["asset_file_url"].startswith(f"s3://{BUCKET}/")]
    assert stored
    # When a client points the entry at another object, or drops it
    moved = copy.deepcopy(files)
    moved[0]["asset_file_url"] = f"s3://{BUCKET}/assets/other-asset/x/evil.bin"
    attempts: list[list[dict[str, Any]]] = [moved, []]
    for attempt in attempts:
        status, body = put("victim-1", {"files": attempt})
        # Then the update is refused: a version's files never change
        assert (status, body["error"]["code"]) == (400, "VERSION_IMMUTABLE"), attempt
    # And the stored entries sent back unchanged are accepted (nothing changes)
    status, body = put("victim-1", {"files": files, "asset_brief_description": "same files"})
    assert status == 200
    assert body["files"] == files


@pytest.mark.parametrize(
    "route",
    ["external", "presigned", "form"],
)
def test_an_assetdb_client_cannot_set_the_stored_file(route: str) -> None:
    info = {"key": "assetdb/someone-else/file.bin", "status": "available"}
    if route == "external":
        request = event("apigw_assetdb_create_external", body={"asset_file_info": info})
        status, body = invoke(assetdb_handler, request)
    elif route == "presigned":
        payload = {"filename": "f.bin", "size": 3, "asset_metadata": {"asset_file_info": info}}
        request = event("apigw_assetdb_upload_asset_presigned", body=payload)
        status, body = invoke(assetdb_handler, request)
    else:
        status, body = assetdb_upload(b"abc", metadata={"asset_file_info": info})
    assert status == 400, body
    assert "asset_file_info" in body["error"]["message"]


def test_a_bundle_cannot_point_a_file_into_the_bucket(s3: Any) -> None:
    entry = stored_entry("someone-else")
    upload_id = upload(zip_bytes({"a.txt": b"a"}, asset=bundle_asset("sneaky-1", files=[entry])))
    assert run(upload_id) == {"batchItemFailures": []}
    from tests.integration.test_ingest import status_of

    record = status_of(upload_id)
    assert record["status"].startswith("failed: ")
    assert "files[0].asset_file_url points into this deployment's object store" in record["status"]
