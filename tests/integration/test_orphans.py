"""Nothing stored outlives its record: purging a registry asset removes the objects no other
version holds, and a file sent to the ticket of a deleted Assets DB record is removed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from assets_core.config import get_settings
from assets_core.keys import upload_key
from assets_core.stores.factory import assets_store
from assets_core.stores.objects import object_store
from assets_core.stores.status import status_store
from functions.assetdb.handler import handler as assetdb_handler
from functions.ingest.handler import ingest
from functions.registry_write.handler import handler as write_handler
from local.apigw import LocalContext
from tests.integration.test_versions import delete
from tests.support import QUEUED, bundle_asset, event, invoke, object_created, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def ingested(asset: dict[str, Any], members: dict[str, bytes]) -> None:
    upload_id = str(uuid.uuid4())
    status_store().put(upload_id, dict(QUEUED))
    object_store().put(upload_key(upload_id), zip_bytes(members, asset=asset), "application/zip")
    assert ingest(object_created(upload_key(upload_id)), LocalContext("ingest")) == {
        "batchItemFailures": []
    }
    assert status_store().get(upload_id)["status"] == "success"  # type: ignore[index]


def keys_under(s3: Any, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def delete_asset(asset_id: str) -> tuple[int, Any]:
    return invoke(
        write_handler,
        event(
            "apigw_registry_delete_asset",
            path=f"/registry/assets/{asset_id}",
            path_parameters={"asset_id": asset_id},
        ),
    )


def purged(asset_id: str) -> tuple[int, Any]:
    """An admin's DELETE ...?purge=true (``test_versions.delete``)."""
    return delete(asset_id, purge="true")


def test_purging_an_asset_removes_its_stored_files(s3: Any) -> None:
    # Given an ingested asset with two stored files
    ingested(bundle_asset("orphan-1"), {"a.bin": b"a" * 100, "dir/b.txt": b"b"})
    stored = keys_under(s3, "assets/orphan-1/")
    assert len(stored) == 2

    # When it is deleted, its objects stay (it can be restored)
    status, answer = delete_asset("orphan-1")
    assert (status, answer["deleted"]) == (200, True)
    assert keys_under(s3, "assets/orphan-1/") == stored

    # Then once it is purged, its document and its objects are gone
    status, answer = purged("orphan-1")
    assert (status, answer["purged"]) == (200, True)
    assert keys_under(s3, "assets/orphan-1/") == []
    assert assets_store().unscoped.get("orphan-1") is None


def test_purging_an_asset_keeps_content_another_asset_holds(s3: Any) -> None:
    # Given two assets whose files hold the same bytes: stored once, under the first
    ingested(bundle_asset("keeper"), {"k.bin": b"shared bytes"})
    ingested(bundle_asset("sharer"), {"s.bin": b"shared bytes", "own.bin": b"own"})
    (keeper_key,) = keys_under(s3, "assets/keeper/")
    (sharer_own,) = keys_under(s3, "assets/sharer/")
    assert sharer_own.endswith("/own.bin")

    # When the first is purged, the content the other holds stays
    assert purged("keeper")[0] == 200
    assert keys_under(s3, "assets/keeper/") == [keeper_key]
    assert s3.get_object(Bucket=BUCKET, Key=keeper_key)["Body"].read() == b"shared bytes"

    # And when the other is purged too, nothing is left
    assert purged("sharer")[0] == 200
    assert keys_under(s3, "assets/keeper/") == []
    assert keys_under(s3, "assets/sharer/") == []


def test_a_file_sent_for_a_deleted_assetdb_record_is_removed(s3: Any) -> None:
    # Given a presigned Assets DB upload whose record is deleted before the file is sent
    body = {
        "filename": "late.bin",
        "size": 10,
        "asset_metadata": {"asset_name": "Late", "asset_version": {"version": "1", "tag": "a"}},
    }
    status, created = invoke(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=body)
    )
    assert status == 201
    key, ticket = created["asset_file_info"]["key"], created["upload"]
    uri = "Late:1-a"
    deleted = event(
        "apigw_assetdb_delete_asset",
        path=f"/assetdb/asset/{uri}",
        path_parameters={"asset_uri": uri},
    )
    assert invoke(assetdb_handler, deleted)[0] == 200

    # When the still-valid ticket is used and the object's event reaches ingest
    sent = httpx.post(ticket["url"], data=ticket["fields"], files={"file": b"x" * 10})
    assert sent.status_code == 204
    assert keys_under(s3, key) == [key]
    assert ingest(object_created(key), LocalContext("ingest")) == {"batchItemFailures": []}

    # Then the object is removed: no record describes it
    assert keys_under(s3, key) == []
