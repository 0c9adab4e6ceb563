"""No upload stuck for ever. The processing lock is short and renewed; the
dead-letter consumer settles what three runs could not finish (through LocalStack's real
redrive); the daily sweep removes folders no record references."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from assets_core.config import get_settings
from assets_core.errors import StoreUnavailable
from assets_core.keys import upload_key
from assets_core.logic.bundles import Limits
from assets_core.logic.ingest import ingest_upload
from assets_core.logic.janitor import settle_dead_letter, sweep
from assets_core.ports import Stores
from assets_core.routes import JANITOR
from assets_core.stores.factory import (
    assetdb_store,
    assets_store,
    blobs_store,
    upload_stores,
    versions_store,
)
from assets_core.stores.objects import object_store
from assets_core.stores.status import status_store
from functions.ingest.handler import ingest
from functions.janitor.handler import handler as janitor_handler
from local.poller import QueuePoller, configure_pipeline, function_context, scheduled_event
from tests.support import QUEUED, bundle_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
VISIBILITY_SECONDS = 1


def stores() -> Stores:
    return upload_stores()


def uploaded(asset_id: str, files: dict[str, bytes] | None = None) -> tuple[str, str]:
    """A bundle in incoming/, as a presigned POST leaves it; (upload_id, key)."""
    upload_id = str(uuid.uuid4())
    key = upload_key(upload_id)
    bundle = zip_bytes(files or {"weights.bin": b"w" * 4096}, asset=bundle_asset(asset_id))
    status_store().put(upload_id, dict(QUEUED))
    object_store().put(key, bundle, "application/zip")
    return upload_id, key


def status_of(upload_id: str) -> str:
    record = status_store().get(upload_id)
    assert record is not None
    return str(record["status"])


def keys_under(prefix: str) -> list[str]:
    client = object_store().client
    page = client.list_objects_v2(Bucket=get_settings().bucket_name, Prefix=prefix)
    return [item["Key"] for item in page.get("Contents", [])]


def open_uploads(prefix: str) -> list[str]:
    client = object_store().client
    page = client.list_multipart_uploads(Bucket=get_settings().bucket_name, Prefix=prefix)
    return [item["Key"] for item in page.get("Uploads", [])]


class FailingInserts:
    """A document store whose inserts never answer: every ingest run fails."""

    def __init__(self) -> None:
        self.inner = assets_store()
        self.key_field = self.inner.key_field

    def insert(self, document: Any) -> None:
        raise StoreUnavailable("The metadata store did not answer; try again.")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# -- the lock ------------------------------------------------------------------------------


def test_a_killed_runs_lock_frees_the_upload_within_its_short_lifetime() -> None:
    status = status_store()
    upload_id = str(uuid.uuid4())
    assert status.lock(upload_id, 1) is not None  # a run takes it, then is killed
    assert status.lock(upload_id, 1) is None
    time.sleep(1.3)
    assert status.lock(upload_id, 1) is not None


def test_the_lock_is_renewed_while_a_long_run_works() -> None:
    upload_id, key = uploaded("long-run")
    slow = assets_store()
    real_insert = slow.insert

    def slow_insert(document: Any) -> None:
        time.sleep(5)  # longer than two of the lock's own lifetimes
        real_insert(document)

    chosen = Stores(
        objects=object_store(),
        status=status_store(),
        documents=slow,
        versions=versions_store(),
        blobs=blobs_store(),
    )
    # Two seconds, renewed every 2/3 s: a renewal may be late by over a second on a loaded
    # two-core machine (a one-second lock once expired in CI) and the lock still holds.
    limits = Limits(max_object_bytes=10**9, lock_seconds=2)
    held_during: list[bool] = []

    def probe() -> None:
        time.sleep(3.6)
        held_during.append(status_store().lock(upload_id, 1) is None)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        slow.insert = slow_insert  # type: ignore[method-assign]
        record = ingest_upload(upload_id, key, chosen, limits)
    finally:
        del slow.insert
    prober.join()
    assert record["status"] == "success"
    assert held_during == [True]  # past its first lifetime, the lock was still held
    assert status_store().lock(upload_id, 1) is not None  # and released at the end


# -- the dead-letter consumer -------------------------------------------------------------------


def test_settling_removes_what_a_killed_run_left(s3: Any) -> None:
    upload_id, key = uploaded("killed-run")
    prefix = f"assets/killed-run/{upload_id}/"
    objects = object_store()
    objects.put(prefix + "weights.bin", b"partial")
    objects.start_multipart(prefix + "big.bin", "application/octet-stream")
    status_store().put(upload_id, {"status": "processing", "asset_id": "killed-run"})

    record = settle_dead_letter(upload_id, key, stores())

    assert record["status"].startswith("failed: the upload could not be ingested")
    assert status_of(upload_id) == record["status"]
    assert keys_under(prefix) == []
    assert open_uploads(prefix) == []
    assert objects.size(key) is None  # the bundle too
    assert settle_dead_letter(upload_id, key, stores()) == status_store().get(upload_id)


def test_settling_an_ingest_that_finished_but_could_not_say_so_is_success() -> None:
    upload_id, key = uploaded("stalled-at-the-end")
    real = status_store()

    class StallsOnSuccess:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def put(self, upload: str, record: dict[str, Any]) -> None:
            if record.get("status") == "success":
                raise StoreUnavailable("The upload status store did not answer; try again.")
            real.put(upload, record)

    chosen = Stores(
        objects=object_store(),
        status=StallsOnSuccess(),
        documents=assets_store(),
        versions=versions_store(),
        blobs=blobs_store(),
    )
    with pytest.raises(StoreUnavailable):
        ingest_upload(upload_id, key, chosen, Limits(max_object_bytes=10**9))
    # The run registered the asset, then could not record it: the upload says "processing"
    assert status_of(upload_id) == "processing"

    record = settle_dead_letter(upload_id, key, stores())

    assert (record["status"], record["asset_id"]) == ("success", "stalled-at-the-end")
    stored = assets_store().get("stalled-at-the-end")
    assert stored is not None
    assert keys_under(f"assets/stalled-at-the-end/{upload_id}/")


@pytest.fixture
def pipeline() -> Iterator[tuple[str, str, str]]:
    """The bucket's notifications to a queue of this test's own with a dead-letter queue
    after 3 receives; (endpoint, queue URL, dead-letter queue URL)."""
    settings = get_settings()
    endpoint, bucket = settings.s3_endpoint_url, settings.bucket_name
    name = f"janitor-{uuid.uuid4().hex[:8]}"
    queue_url = configure_pipeline(
        endpoint, bucket, VISIBILITY_SECONDS, queue=name, dead_letter_queue=f"{name}-dlq"
    )
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    yield endpoint, queue_url, dlq_url
    boto3.client("s3", endpoint_url=endpoint).put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={}
    )
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=dlq_url)


def test_an_upload_that_fails_three_runs_is_settled_from_the_dead_letter_queue(
    pipeline: tuple[str, str, str],
) -> None:
    endpoint, queue_url, dlq_url = pipeline
    failing = Stores(
        objects=object_store(),
        status=status_store(),
        documents=FailingInserts(),
        versions=versions_store(),
        blobs=blobs_store(),
    )
    runs = QueuePoller(endpoint, queue_url, lambda e, c: ingest(e, c, stores=failing))
    dead = QueuePoller(endpoint, dlq_url, janitor_handler, JANITOR)
    upload_id, key = uploaded("never-stored")

    # Three runs fail (the metadata store never answers): SQS moves the message to the DLQ
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and dead.poll_once(wait_seconds=0) == 0:
        runs.poll_once(wait_seconds=1)
    assert status_of(upload_id) == "failed: " + (
        "the upload could not be ingested: three runs failed or were stopped before finishing "
        "(the service was unavailable, or the bundle needs more time than one run has); "
        "upload it again"
    )
    assert object_store().size(key) is None
    assert keys_under("assets/never-stored/") == []
    assert dead.poll_once(wait_seconds=1) == 0  # settled messages are deleted


# -- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_removes_only_old_unreferenced_folders() -> None:
    objects = object_store()
    # A registered asset's folder, an orphan, a folder of an upload still in progress
    upload_id, key = uploaded("kept-asset")
    ingest_upload(upload_id, key, stores(), Limits(max_object_bytes=10**9))
    orphan = f"assets/deleted-asset/{uuid.uuid4()}/"
    objects.put(orphan + "weights.bin", b"left behind")
    objects.start_multipart(orphan + "big.bin", "application/octet-stream")
    running = str(uuid.uuid4())
    status_store().put(running, {"status": "processing", "asset_id": "running"})
    objects.put(f"assets/running/{running}/a.bin", b"being written")
    # An Assets DB file whose record is gone
    loose = f"assetdb/{uuid.uuid4()}/"
    objects.put(loose + "f.bin", b"x")

    # Young folders are never swept: a run may still be writing them
    young = sweep(stores(), assetdb_store(), now=datetime.now(UTC))
    assert young.removed == []

    later = datetime.now(UTC) + timedelta(days=2)
    report = sweep(stores(), assetdb_store(), now=later)
    assert sorted(report.removed) == sorted([orphan, loose])
    assert keys_under(orphan) == []
    assert open_uploads(orphan) == []
    assert keys_under(loose) == []
    assert keys_under(f"assets/kept-asset/{upload_id}/")
    assert keys_under(f"assets/running/{running}/")


def test_a_folder_another_asset_names_is_kept() -> None:
    objects = object_store()
    shared = f"assets/gone/{uuid.uuid4()}/"
    objects.put(shared + "w.bin", b"shared")
    document = bundle_asset("names-it")
    document["files"] = [
        {
            "asset_file_id": "w",
            "asset_file_url": objects.url_of(shared + "w.bin"),
            "asset_file_metadata": {"path": "w.bin"},
        }
    ]
    document["asset_file_ids"] = ["w"]
    assets_store().insert(document)
    report = sweep(stores(), assetdb_store(), now=datetime.now(UTC) + timedelta(days=2))
    assert shared not in report.removed
    assert keys_under(shared)


def test_the_janitor_sweeps_on_its_schedule() -> None:
    orphan = f"assets/scheduled/{uuid.uuid4()}/"
    object_store().put(orphan + "x", b"x")
    event = scheduled_event(datetime.now(UTC))
    summary = janitor_handler(event, function_context(JANITOR))
    assert summary["removed"] == 0  # young: kept
    assert keys_under(orphan)


def test_settling_finds_the_asset_when_the_status_never_named_it() -> None:
    upload_id, key = uploaded("unnamed-in-status")
    ingest_upload(upload_id, key, stores(), Limits(max_object_bytes=10**9))
    status_store().put(upload_id, {"status": "processing"})  # as a run that died early said
    record = settle_dead_letter(upload_id, key, stores())
    assert (record["status"], record["asset_id"]) == ("success", "unnamed-in-status")
