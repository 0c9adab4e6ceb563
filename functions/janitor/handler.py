"""The janitor: what no request cleans up (see ``assets_core.logic.janitor``).

Two event sources: the ingest queue's dead-letter queue (SQS, one message per upload that
failed three runs), whose uploads it settles; and a daily EventBridge schedule, on which it
sweeps the bucket for objects no record references."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from assets_core.keys import ASSETDB_PREFIX, s3_event_objects, upload_id_of, upload_key
from assets_core.logic.janitor import settle_dead_letter, sweep
from assets_core.observability import MetricUnit, emit, lambda_handler, logger
from assets_core.ports import Stores
from assets_core.stores.factory import assetdb_store, upload_stores


def is_schedule(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def settle(event: dict[str, Any], context: Any, stores: Stores) -> dict[str, Any]:
    def handle(record: SQSRecord) -> None:
        for _, key in s3_event_objects(record.body):
            if key.startswith(ASSETDB_PREFIX):
                # The record stays pending with its ticket; the sweep removes the file once
                # the record is deleted.
                logger.warning(
                    "An Assets DB upload reached the dead-letter queue", extra={"key": key}
                )
                continue
            upload_id = upload_id_of(key)
            if upload_id is None:
                continue
            # the bundle's key also for the marker of an ingest run that goes on
            result = settle_dead_letter(upload_id, upload_key(upload_id), stores)
            logger.info(
                "Settled a dead-lettered upload",
                extra={"upload_id": upload_id, "upload_status": result.get("status")},
            )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=handle, processor=processor, context=context
        )
    )


def janitor(
    event: dict[str, Any],
    context: Any,
    *,
    stores: Stores | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    chosen = stores or upload_stores()
    if is_schedule(event):
        report = sweep(chosen, assetdb_store(), now=now or datetime.now(UTC))
        summary = report.summary()
        logger.info("Swept the bucket", extra={"removed": summary["removed"]})
        emit("SweptPrefixes", summary["removed"], MetricUnit.Count)
        return summary
    return settle(event, context, chosen)


def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return janitor(event, context)


handler = lambda_handler(run)
