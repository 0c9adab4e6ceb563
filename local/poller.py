"""The local stand-in for the SQS event source mapping: the bucket notifies a queue of every
bundle under incoming/ (LocalStack delivers it as S3 does), and this poller drains the queue
into the ingest handler, deleting what it ingested and leaving failed messages for redelivery."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from assets_core.keys import (
    ARCHIVE_PREFIX,
    ARCHIVE_REQUEST_SUFFIX,
    ASSETDB_PREFIX,
    INCOMING_PREFIX,
)
from assets_core.routes import ARCHIVE_BUILDER, INGEST, JANITOR, FunctionSpec
from local.apigw import LocalContext

log = logging.getLogger("local.poller")
QUEUE = "assets-ingest"
DEAD_LETTER_QUEUE = "assets-ingest-dlq"
ARCHIVE_QUEUE = "assets-archives"


def configure_pipeline(
    endpoint: str,
    bucket: str,
    visibility_timeout: int = 30,
    *,
    queue: str = QUEUE,
    dead_letter_queue: str = DEAD_LETTER_QUEUE,
    archive_queue: str | None = None,
) -> str:
    """Create the queue (with a dead-letter queue after 3 receives) and the bucket's
    ObjectCreated notification on incoming/*.zip (and, given ``archive_queue``, that queue
    for the archive builder, notified of archives/*.build.json); the ingest queue's URL."""
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=queue,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "3"}}',
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    def on_created(*rules: tuple[str, str], arn: str = queue_arn) -> dict[str, Any]:
        return {
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}},
        }

    # ZIP bundles, and files of presigned Assets DB uploads; archive build requests
    notified = [
        on_created(("prefix", INCOMING_PREFIX), ("suffix", ".zip")),
        on_created(("prefix", ASSETDB_PREFIX)),
    ]
    if archive_queue is not None:
        archive_url = sqs.create_queue(
            # as in AWS: a build is not delivered again while it may still be running
            QueueName=archive_queue,
            Attributes={"VisibilityTimeout": str(ARCHIVE_BUILDER.timeout_s)},
        )["QueueUrl"]
        archive_arn = sqs.get_queue_attributes(QueueUrl=archive_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        notified.append(
            on_created(
                ("prefix", ARCHIVE_PREFIX), ("suffix", ARCHIVE_REQUEST_SUFFIX), arn=archive_arn
            )
        )
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": notified}
    )
    return str(queue_url)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event an SQS event source mapping hands a function for these messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }


def dead_letter_url(endpoint: str, dead_letter_queue: str = DEAD_LETTER_QUEUE) -> str:
    return queue_url_of(endpoint, dead_letter_queue)


def queue_url_of(endpoint: str, name: str) -> str:
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def scheduled_event(now: datetime) -> dict[str, Any]:
    """The event an EventBridge schedule hands its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/local-daily-sweep"],
        "detail": {},
    }


def function_context(spec: FunctionSpec) -> LocalContext:
    """The context Lambda hands the function: its name, memory and timeout as deployed."""
    return LocalContext(spec.name, spec.memory_mb, spec.timeout_s)


class Schedule(threading.Thread):
    """The local stand-in for an EventBridge schedule: the handler every ``seconds``."""

    def __init__(self, seconds: float, handler: Any, spec: FunctionSpec = JANITOR) -> None:
        super().__init__(name=f"{spec.name}-schedule", daemon=True)
        self.seconds = seconds
        self.handler = handler
        self.spec = spec
        self.function_name = spec.name
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.seconds):
            try:
                event = scheduled_event(datetime.now(UTC))
                self.handler(event, function_context(self.spec))
            except Exception:
                log.exception("The scheduled %s run failed", self.function_name)

    def stop(self) -> None:
        self.stopping.set()


class QueuePoller(threading.Thread):
    def __init__(
        self, endpoint: str, queue_url: str, handler: Any, spec: FunctionSpec = INGEST
    ) -> None:
        super().__init__(name=f"{spec.name}-poller", daemon=True)
        self.spec = spec
        self.function_name = spec.name
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        self.queue_url = queue_url
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.handler = handler
        self.stopping = threading.Event()

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Deliver one batch; how many messages it held."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        result = self.handler(sqs_event(messages, self.queue_arn), function_context(self.spec))
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
            for n, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
        return len(messages)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("Polling the %s queue failed", self.function_name)
                self.stopping.wait(1)

    def stop(self) -> None:
        self.stopping.set()
