"""The purge (scheduled, through the purge function's handler) and the one-off migration of
assets stored before versions, on the session's MongoDB wire server and S3."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assets_core.collections import REGISTRY_FIELD
from assets_core.config import get_settings
from assets_core.stores.factory import assets_store, blobs_store, versions_store
from functions.purge.handler import handler as purge_handler
from local.apigw import LocalContext
from local.poller import scheduled_event
from tests.integration.test_ingest import run, status_of, stored_keys, upload
from tests.integration.test_versions import delete, delete_version, files_of, get, restore
from tests.support import bundle_asset, make_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def ingested(asset_id: str, members: dict[str, bytes], version: str = "v1") -> str:
    upload_id = upload(zip_bytes(members, asset=bundle_asset(asset_id, asset_version=version)))
    run(upload_id)
    assert status_of(upload_id)["status"] == "success", status_of(upload_id)
    return upload_id


def purge_at(moment: datetime) -> dict[str, Any]:
    """The purge function as the hourly schedule runs it, at ``moment``."""
    result: dict[str, Any] = purge_handler(scheduled_event(moment), LocalContext("purge"))
    return result


LATER = datetime.now(UTC) + timedelta(days=8)  # past the default 7 days of retention


def test_the_schedule_purges_what_is_past_retention_and_nothing_else(s3: Any) -> None:
    # Given a deleted asset, a deleted version of a live one, and a live asset
    ingested("gone-1", {"a.bin": b"only gone-1"})
    ingested("kept-1", {"k.bin": b"kept v1"})
    ingested("kept-1", {"k.bin": b"kept v2"}, "v2")
    ingested("live-1", {"l.bin": b"live"})
    assert delete("gone-1")[0] == 200
    assert delete_version("kept-1", "v1")[0] == 200
    # When the purge runs before their retention ends, nothing goes
    assert purge_at(datetime.now(UTC))["purged_assets"] == 0
    assert restore("gone-1")[0] == 200
    assert delete("gone-1")[0] == 200
    # When it runs after
    summary = purge_at(LATER)
    # Then the deleted asset and version are gone with their content; the rest stays
    assert (summary["purged_assets"], summary["purged_versions"]) == (1, 1)
    assert summary["objects_deleted"] == 2
    assert assets_store().unscoped.get("gone-1") is None
    assert stored_keys(s3, "assets/gone-1/") == []
    assert [k.rsplit("/", 1)[1] for k in stored_keys(s3, "assets/kept-1/")] == ["k.bin"]
    assert get("kept-1")[1]["asset_version"] == "v2"
    assert versions_store().unscoped.get("kept-1/v1") is None
    assert stored_keys(s3, "assets/live-1/") != []
    # and a second run finds nothing more
    assert purge_at(LATER)["purged_assets"] == 0


def test_a_purged_version_keeps_content_the_next_version_holds(s3: Any) -> None:
    shared = b"s" * 50_000
    ingested("m-1", {"weights.bin": shared, "notes.txt": b"one"})
    ingested("m-1", {"weights.bin": shared, "notes.txt": b"two"}, "v2")
    assert delete_version("m-1", "v1")[0] == 200
    assert purge_at(LATER)["objects_deleted"] == 1  # v1's notes.txt only
    files = files_of("m-1")
    record = blobs_store().get(hashlib.sha256(shared).hexdigest())
    assert record is not None
    assert record["refs"]
    assert all("/v2#" in ref for ref in record["refs"])
    stored = s3.get_object(Bucket=BUCKET, Key=record["key"])["Body"].read()
    assert stored == shared
    assert files["weights.bin"]["sha256"] == hashlib.sha256(shared).hexdigest()


def test_a_purge_stopped_halfway_is_finished_by_the_next_run(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingested("half-1", {"a.bin": b"a", "b.bin": b"b"})
    assert delete("half-1")[0] == 200
    # When the first run dies after releasing the content, before deleting the documents
    from assets_core.logic import retention

    real = retention.forget
    monkeypatch.setattr(retention, "forget", lambda *_: (_ for _ in ()).throw(RuntimeError))
    with pytest.raises(RuntimeError):
        purge_at(LATER)
    monkeypatch.setattr(retention, "forget", real)
    # Then the next run finishes it
    assert purge_at(LATER)["purged_assets"] == 1
    assert assets_store().unscoped.get("half-1") is None
    assert stored_keys(s3, "assets/half-1/") == []


# -- the migration ---------------------------------------------------------------------------


def legacy(asset_id: str, members: dict[str, bytes], s3: Any) -> dict[str, Any]:
    """An asset as stored before versions: no index, no content records, its files under
    its own prefix."""
    files = []
    for name, data in members.items():
        key = f"assets/{asset_id}/legacy-upload/{name}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        files.append(
            {
                "asset_file_id": name,
                "asset_file_type": "file",
                "asset_file_mime_type": "application/octet-stream",
                "asset_file_url": f"s3://{BUCKET}/{key}",
                "asset_file_metadata": {
                    "path": name,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
            }
        )
    document = make_asset(asset_id, files=files, asset_file_ids=list(members))
    document.update(created_by="uploader", created_at="2026-01-01T00:00:00.000Z")
    assets_store().unscoped.insert(document)
    return document


def test_the_migration_holds_legacy_files_once_and_is_idempotent(s3: Any) -> None:
    # Given two assets stored before versions, sharing one file's content
    legacy("old-1", {"w.bin": b"same weights", "a.txt": b"a"}, s3)
    legacy("old-2", {"w.bin": b"same weights"}, s3)
    # When the migration runs
    answer = purge_handler({"action": "migrate"}, LocalContext("purge"))
    # Then both have a versions index and their content is held once
    assert answer == {"assets_seen": 2, "assets_migrated": 2}
    for asset_id in ("old-1", "old-2"):
        head = assets_store().unscoped.get(asset_id)
        assert head is not None
        assert isinstance(head.get(REGISTRY_FIELD), dict)
        assert get(asset_id)[1]["asset_version"] == "v1"
    shared = blobs_store().get(hashlib.sha256(b"same weights").hexdigest())
    assert shared is not None
    assert len(shared["refs"]) == 2
    keys = stored_keys(s3)
    assert len([k for k in keys if k.endswith("/w.bin")]) == 1, "the duplicate was removed"
    assert files_of("old-2")["w.bin"]["sha256"] == hashlib.sha256(b"same weights").hexdigest()
    # And running it again changes nothing
    assert purge_handler({"action": "migrate"}, LocalContext("purge")) == {
        "assets_seen": 2,
        "assets_migrated": 0,
    }
    assert stored_keys(s3) == keys
    # And a purge of one keeps the content the other holds
    assert delete("old-1", purge="true")[0] == 200
    remaining = s3.get_object(Bucket=BUCKET, Key=shared["key"])["Body"].read()
    assert remaining == b"same weights"


def test_a_legacy_asset_purged_without_migration_takes_its_files(s3: Any) -> None:
    legacy("old-3", {"x.bin": b"x"}, s3)
    assert delete("old-3", purge="true")[0] == 200
    assert stored_keys(s3, "assets/old-3/") == []
