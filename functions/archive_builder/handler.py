"""The archive builder: SQS messages carrying S3 ObjectCreated events for the build requests
the download route writes (``archives/<asset_id>/<revision>.build.json``); each one becomes
the asset's ZIP, assembled server-side in S3 (``assets_core.logic.archives``). It reads and
writes only the bucket, so it runs outside the VPC."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from assets_core.keys import ARCHIVE_PREFIX, ARCHIVE_REQUEST_SUFFIX, s3_event_objects
from assets_core.logic import archives
from assets_core.observability import MetricUnit, emit, lambda_handler, logger
from assets_core.ports import ObjectStore


def build(
    event: dict[str, Any], context: Any, *, objects: ObjectStore | None = None
) -> dict[str, Any]:
    """Build every archive the batch requests. A failed build is recorded for its clients
    (and the message is done); a store outage fails the message, which SQS delivers again."""
    if objects is None:
        from assets_core.stores.objects import object_store

        objects = object_store()
    store = objects

    def handle(record: SQSRecord) -> None:
        for _, key in s3_event_objects(record.body):
            if not (key.startswith(ARCHIVE_PREFIX) and key.endswith(ARCHIVE_REQUEST_SUFFIX)):
                logger.warning("Ignoring an object that is no build request", extra={"key": key})
                continue
            started = time.monotonic()
            outcome = archives.run(store, key)
            emit(
                "ArchiveBuildSeconds",
                time.monotonic() - started,
                MetricUnit.Seconds,
                outcome="ready" if outcome == archives.READY else "failed",
            )
            logger.info("Archive request", extra={"key": key, "outcome": outcome})

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    return dict(response)


handler = lambda_handler(build)
