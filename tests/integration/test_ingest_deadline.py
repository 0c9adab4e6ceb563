"""A bundle too slow for one run stops before the function's deadline: it fails with the reason
and leaves nothing behind (no stored members, no open multipart uploads, no bundle), instead of
timing out three times into the dead-letter queue with partial objects under assets/."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.errors import StoreUnavailable
from assets_core.logic import bundle_writer, bundles
from assets_core.stores.factory import assets_store
from functions.ingest import handler as ingest_module
from local.apigw import LocalContext
from tests.integration.test_ingest import sqs_event, status_of, stored_keys, upload
from tests.support import bundle_asset, object_created, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")


def deadline_after(checks: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the run's deadline pass after ``checks`` checks of the clock (each member, each
    chunk read); the checks counted."""
    counted: list[int] = []
    real_check = bundles.check_time

    def deadline_after_some_work(limits: bundles.Limits) -> None:
        counted.append(1)
        if len(counted) > checks:
            raise bundles.OutOfTime(
                "the bundle could not be ingested within the ingest function's time limit"
            )
        real_check(limits)

    monkeypatch.setattr(bundle_writer, "check_time", deadline_after_some_work)
    return counted


def slow_bundle(asset_id: str) -> tuple[str, dict[str, bytes]]:
    members = {f"part-{n:02d}.bin": os.urandom(1024) for n in range(30)}
    members["big.bin"] = os.urandom(12 * 1024 * 1024)  # a multipart upload, left open
    return upload(zip_bytes(members, asset=bundle_asset(asset_id))), members


def test_a_run_out_of_time_hands_over_to_the_next_run(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bundle, and a run whose deadline passes once some members are stored
    upload_id, members = slow_bundle("slow-1")
    checks = deadline_after(12, monkeypatch)

    # When ingest runs
    result = ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest", timeout_s=900))

    # Then it stopped with what it stored in a checkpoint, its unfinished uploads aborted,
    # and the marker whose event starts the next run
    assert len(checks) > 12
    assert result == {"batchItemFailures": []}
    record = status_of(upload_id)
    assert record["status"] == "processing"
    assert record["checkpoint"]["runs"] == 1
    stored_first = set(record["checkpoint"]["stored"])
    assert 0 < len(stored_first) < len(members)
    marker = f"incoming/{upload_id}.run-2.zip"
    assert stored_keys(s3, "incoming/") == sorted([f"incoming/{upload_id}.zip", marker])
    bucket = get_settings().bucket_name
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert len(stored_keys(s3, "assets/")) == len(stored_first)

    # When the marker's event runs ingest again, with time enough
    monkeypatch.setattr(bundle_writer, "check_time", bundles.check_time)
    ingest_module.ingest(object_created(marker), LocalContext("ingest", timeout_s=900))

    # Then the asset is registered with every member, each read once in all, and nothing is
    # left under incoming/
    record = status_of(upload_id)
    assert record["status"] == "success", record
    assert "checkpoint" not in record
    assert record["ingest_runs"] == 2
    keys = stored_keys(s3, "assets/")
    assert sorted(key.rsplit("/", 1)[-1] for key in keys) == sorted(members)
    assert stored_keys(s3, "incoming/") == []
    asset = assets_store().get("slow-1")
    assert asset is not None
    digests = sorted(f["asset_file_metadata"]["sha256"] for f in asset["files"])
    assert digests == sorted(hashlib.sha256(data).hexdigest() for data in members.values())


def test_the_last_run_allowed_fails_cleanly(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "ingest_max_runs", 1)
    upload_id, _ = slow_bundle("slow-2")
    deadline_after(12, monkeypatch)
    ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest", timeout_s=900))
    status = status_of(upload_id)["status"]
    assert status.startswith("failed: "), status
    assert "time limit" in status
    assert "in 1 runs" in status
    assert stored_keys(s3, "assets/") == []
    assert stored_keys(s3, "incoming/") == []
    bucket = get_settings().bucket_name
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_run_that_stores_nothing_in_its_time_fails_cleanly(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload(
        zip_bytes({"big.bin": os.urandom(12 * 1024 * 1024)}, asset=bundle_asset("slow-3"))
    )
    deadline_after(2, monkeypatch)
    ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest", timeout_s=900))
    status = status_of(upload_id)["status"]
    assert status.startswith("failed: "), status
    assert "stored no member" in status
    assert stored_keys(s3, "assets/") == []
    assert stored_keys(s3, "incoming/") == []


def test_the_deadline_is_checked_against_the_clock() -> None:
    limits = bundles.Limits(max_object_bytes=1, deadline=time.monotonic() + 60)
    bundles.check_time(limits)
    with pytest.raises(bundles.OutOfTime, match="time limit"):
        bundles.check_time(bundles.Limits(max_object_bytes=1, deadline=time.monotonic() - 1))
    bundles.check_time(bundles.Limits(max_object_bytes=1))  # no deadline, no limit


def test_without_a_context_deadline_there_is_no_limit() -> None:
    assert ingest_module.run_deadline(None) is None
    left = ingest_module.run_deadline(LocalContext("ingest", timeout_s=900))
    assert left is not None
    assert 860 < left - time.monotonic() <= 870  # a 30 s margin


def test_a_store_failure_in_a_later_run_keeps_what_earlier_runs_stored(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a first run that stopped at its deadline with members stored
    upload_id, members = slow_bundle("slow-4")
    deadline_after(12, monkeypatch)
    ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest", timeout_s=900))
    stored_first = set(status_of(upload_id)["checkpoint"]["stored"])
    kept_keys = stored_keys(s3, "assets/")
    monkeypatch.setattr(bundle_writer, "check_time", bundles.check_time)

    # When the next run meets a store that fails (the message is delivered again)
    real_write = bundle_writer.MemberWriter.write

    def failing_write(self: Any, *args: Any) -> str:
        raise StoreUnavailable("The object store did not answer; try again.")

    monkeypatch.setattr(bundle_writer.MemberWriter, "write", failing_write)
    marker = object_created(f"incoming/{upload_id}.run-2.zip")
    result = ingest_module.ingest(marker, LocalContext("ingest", timeout_s=900))
    assert result["batchItemFailures"], result

    # Then the earlier runs' members and their checkpoint stay, and the delivery after it
    # finishes from them
    record = status_of(upload_id)
    assert record["status"] == "queued"
    assert set(record["checkpoint"]["stored"]) == stored_first
    assert stored_keys(s3, "assets/") == kept_keys
    monkeypatch.setattr(bundle_writer.MemberWriter, "write", real_write)
    ingest_module.ingest(marker, LocalContext("ingest", timeout_s=900))
    assert status_of(upload_id)["status"] == "success"
    assert len(stored_keys(s3, "assets/")) == len(members)
