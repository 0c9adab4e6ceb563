"""The ingest pipeline through LocalStack's real queue, as AWS runs it: a presigned POST puts
the bundle in S3, S3 notifies the SQS queue, the event source mapping (the local poller)
hands the message to the ingest function at the stack's log level, and a message that
ingest finished is deleted: nothing is redelivered and the dead-letter queue stays empty."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from assets_core.config import get_settings
from functions.ingest.handler import handler as ingest_handler
from functions.registry_zip.handler import handler as zip_handler
from local.poller import QueuePoller, configure_pipeline
from tests.support import bundle_asset, event, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
VISIBILITY_SECONDS = 2


@pytest.fixture
def pipeline() -> Iterator[tuple[QueuePoller, str]]:
    """The bucket's notifications to a queue of this test's own, with its dead-letter queue;
    the poller on it, and the dead-letter queue's URL. Removed afterwards."""
    settings = get_settings()
    endpoint, bucket = settings.s3_endpoint_url, settings.bucket_name
    name = f"ingest-{uuid.uuid4().hex[:8]}"
    queue_url = configure_pipeline(
        endpoint,
        bucket,
        VISIBILITY_SECONDS,
        queue=name,
        dead_letter_queue=f"{name}-dlq",
    )
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    yield QueuePoller(endpoint, queue_url, ingest_handler), dlq_url
    boto3.client("s3", endpoint_url=endpoint).put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={}
    )
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=dlq_url)


def visible_messages(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_finished_ingest_deletes_its_message(pipeline: tuple[QueuePoller, str]) -> None:
    poller, dlq_url = pipeline
    # Given a bundle uploaded with the presigned POST the API hands out
    bundle = zip_bytes({"weights.bin": b"w" * 4096}, asset=bundle_asset("queued-1"))
    request = event("apigw_registry_zip_upload_presigned", body={"size": len(bundle)})
    status, answer = invoke(zip_handler, request)
    assert status == 202
    upload_id, ticket = answer["upload_id"], answer["upload"]
    posted = httpx.post(ticket["url"], data=ticket["fields"], files={"file": bundle})
    assert posted.status_code == 204, posted.text

    # When the queue's messages are delivered to the ingest function (S3 also sends an
    # s3:TestEvent when notifications are configured, as AWS does; ingest ignores it)
    status_event = event(
        "apigw_registry_zip_status",
        path=f"/registry/zip/status/{upload_id}",
        path_parameters={"upload_id": upload_id},
    )
    deadline = time.monotonic() + 20
    record: dict[str, Any] = {}
    while record.get("status") != "success" and time.monotonic() < deadline:
        poller.poll_once(wait_seconds=1)
        _, record = invoke(zip_handler, status_event)

    # Then the upload succeeded, and its message is gone for good
    assert (record["status"], record.get("asset_id")) == ("success", "queued-1")
    time.sleep(VISIBILITY_SECONDS + 1)  # a message not deleted would be visible again now
    sqs = poller.sqs
    assert poller.poll_once(wait_seconds=1) == 0
    assert visible_messages(sqs, poller.queue_url) == 0
    assert visible_messages(sqs, dlq_url) == 0
