"""A bundle too slow for one run stops before the function's deadline: it fails with the reason
and leaves nothing behind (no stored members, no open multipart uploads, no bundle), instead of
timing out three times into the dead-letter queue with partial objects under assets/."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.logic import bundle_writer, bundles
from functions.ingest import handler as ingest_module
from local.apigw import LocalContext
from tests.integration.test_ingest import sqs_event, status_of, stored_keys, upload
from tests.support import bundle_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")


def test_a_run_out_of_time_fails_cleanly(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bundle, and a run whose deadline passes once some members are stored
    members = {f"part-{n:02d}.bin": os.urandom(1024) for n in range(30)}
    members["big.bin"] = os.urandom(12 * 1024 * 1024)  # a multipart upload, left open
    upload_id = upload(zip_bytes(members, asset=bundle_asset("slow-1")))
    checks: list[int] = []
    real_check = bundles.check_time

    def deadline_after_some_work(limits: bundles.Limits) -> None:
        checks.append(1)
        if len(checks) > 12:
            raise bundles.OutOfTime(
                "the bundle could not be ingested within the ingest function's time limit"
            )
        real_check(limits)

    monkeypatch.setattr(bundle_writer, "check_time", deadline_after_some_work)

    # When ingest runs
    result = ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest", timeout_s=900))

    # Then it failed with the reason, and left nothing: no members, no uploads, no bundle
    assert len(checks) > 12
    assert result == {"batchItemFailures": []}
    assert status_of(upload_id)["status"].startswith("failed: ")
    assert "time limit" in status_of(upload_id)["status"]
    assert stored_keys(s3, "assets/") == []
    assert stored_keys(s3, "incoming/") == []
    bucket = get_settings().bucket_name
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


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
