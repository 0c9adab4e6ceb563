"""An insert the database applied while the driver reported an error must not cost the asset
its files: ingest looks before it cleans up, and a redelivery reports success only when the
files it registered are there."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from assets_core.config import get_settings
from assets_core.stores import documents
from assets_core.stores.factory import assets_store
from tests.integration.test_ingest import run, status_of, stored_keys, upload
from tests.support import QUEUED, bundle_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")


def bundle(asset_id: str) -> bytes:
    return zip_bytes({"a.txt": b"a" * 100, "b.bin": b"b" * 200}, asset=bundle_asset(asset_id))


def test_an_applied_insert_reported_as_failed_keeps_the_files(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that commits the insert's transaction, then loses the answer
    real_commit = documents._commit

    def applied_then_lost(started: Any) -> None:
        real_commit(started)
        raise AutoReconnect("connection closed")

    monkeypatch.setattr(documents, "_commit", applied_then_lost)
    upload_id = upload(bundle("lost-answer-1"))

    # When ingest runs (and, whatever it answers, is delivered again)
    first = run(upload_id)
    monkeypatch.setattr(documents, "_commit", real_commit)
    run(upload_id)

    # Then the asset is registered with every file it names in the bucket
    assert first == {"batchItemFailures": []}
    assert status_of(upload_id)["status"] == "success"
    document = assets_store().get("lost-answer-1")
    assert document is not None
    keys = stored_keys(s3, "assets/lost-answer-1/")
    assert len(keys) == 2
    for entry in document["files"]:
        assert entry["asset_file_url"].split("/", 3)[3] in keys


def test_a_redelivery_does_not_report_success_for_missing_files(s3: Any, status: Any) -> None:
    # Given an asset registered by an upload whose stored files were then lost
    upload_id = upload(bundle("lost-files-1"))
    assert run(upload_id) == {"batchItemFailures": []}
    bucket = get_settings().bucket_name
    for key in stored_keys(s3, "assets/lost-files-1/"):
        s3.delete_object(Bucket=bucket, Key=key)
    # (and its bundle still waiting, as when the run stopped before saying it was done)
    status.put(upload_id, dict(QUEUED))
    s3.put_object(Bucket=bucket, Key=f"incoming/{upload_id}.zip", Body=bundle("lost-files-1"))

    # When the message is delivered again
    assert run(upload_id) == {"batchItemFailures": []}

    # Then the files are stored again, not just reported
    assert status_of(upload_id)["status"] == "success"
    assert len(stored_keys(s3, "assets/lost-files-1/")) == 2
