"""Ingest: SQS messages carrying S3 ObjectCreated events for incoming/<upload_id>.zip."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from assets_core.config import get_settings
from assets_core.identity import acting_as
from assets_core.keys import ASSETDB_PREFIX, s3_event_objects, upload_id_of, upload_key
from assets_core.logic.bundles import Limits
from assets_core.logic.ingest import IngestStats, ingest_upload
from assets_core.logic.uploads import uploader_of
from assets_core.observability import MetricUnit, emit, lambda_handler, logger
from assets_core.ports import Stores
from assets_core.stores.factory import assetdb_store, audit_trail, upload_stores


def limits() -> Limits:
    settings = get_settings()
    return Limits(
        max_object_bytes=settings.upload_max_bytes,
        max_session_bytes=settings.upload_session_max_bytes,
        max_members=settings.bundle_max_members,
        max_expanded_bytes=settings.bundle_max_expanded_bytes,
        max_ratio=settings.bundle_max_ratio,
        part_bytes=settings.ingest_part_bytes,
        copy_min_bytes=settings.ingest_copy_min_bytes,
        copy_part_bytes=settings.ingest_copy_part_bytes,
        upload_threads=settings.ingest_upload_threads,
        read_streams=settings.ingest_read_streams,
        max_runs=settings.ingest_max_runs,
    )


def run_deadline(context: Any) -> float | None:
    """When this run stops ingesting (``time.monotonic()``): the margin before the function's
    deadline (``INGEST_STOP_MARGIN_SECONDS``, at most a tenth of the time left) leaves time
    to clean up and record why, instead of being killed halfway."""
    settings = get_settings()
    own = time.monotonic() + settings.ingest_run_seconds if settings.ingest_run_seconds else None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return own
    seconds = remaining() / 1000
    margin = min(settings.ingest_stop_margin_seconds, seconds / 10)
    deadline = time.monotonic() + seconds - margin
    return deadline if own is None else min(own, deadline)


def ingest(event: dict[str, Any], context: Any, *, stores: Stores | None = None) -> dict[str, Any]:
    """Ingest every bundle the batch names; failed messages are reported, not the batch."""
    chosen = stores or upload_stores()
    bundle_limits = replace(limits(), deadline=run_deadline(context))

    def handle(record: SQSRecord) -> None:
        for bucket, key in s3_event_objects(record.body):
            if key.startswith(ASSETDB_PREFIX):
                # Loaded on the first Assets DB object: bundle batches never need it.
                from assets_core.logic import assetdb

                finished = assetdb.finish_upload(
                    key, files=chosen.objects, store=assetdb_store(), trail=audit_trail()
                )
                logger.info("Assets DB upload", extra={"key": key, "finished": bool(finished)})
                continue
            upload_id = upload_id_of(key)
            if upload_id is None:
                logger.warning(
                    "Ignoring an object outside incoming/<upload_id>.zip",
                    extra={"bucket": bucket, "key": key},
                )
                continue
            # The bundle's own event, or the marker of a run that goes on from the last one.
            ingest_counted(upload_id, upload_key(upload_id), chosen, bundle_limits)
            if key != upload_key(upload_id):
                chosen.objects.delete([key])

    # Report every failed message, even when all failed, rather than failing the invocation.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    return dict(response)


def ingest_counted(
    upload_id: str, key: str, stores: Stores, bundle_limits: Limits
) -> dict[str, Any]:
    """One upload ingested, its logs under the correlation id of the request that started it,
    and its metrics (bytes, members, seconds) by outcome: ``success``, ``failed`` (refused,
    final), or ``retried`` (a store failed; the message is delivered again)."""
    queued = stores.status.get(upload_id) or {}
    logger.set_correlation_id(queued.get("correlation_id") or upload_id)
    started = time.monotonic()
    outcome = "retried"
    stats = IngestStats()
    try:
        with acting_as(uploader_of(queued)):  # the bundle's asset is the uploader's
            result = ingest_upload(upload_id, key, stores, bundle_limits, stats)
        state = result.get("status")
        outcome = (
            "success"
            if state == "success"
            else "continued"
            if state == "processing" and "checkpoint" in result
            else "failed"
        )
        # Named fields, never the record spread out: its "filename" is a LogRecord
        # attribute, and logging refuses to overwrite one (the message then failed after
        # ingest had finished, and went to the dead-letter queue).
        logger.info(
            "Ingested upload",
            extra={
                "upload_id": upload_id,
                "upload_status": result.get("status"),
                "asset_id": result.get("asset_id"),
            },
        )
        return result
    finally:
        emit("IngestSeconds", time.monotonic() - started, MetricUnit.Seconds, outcome=outcome)
        emit("IngestBytes", stats.bytes, MetricUnit.Bytes, outcome=outcome)
        emit("IngestMembers", stats.members, MetricUnit.Count, outcome=outcome)
        logger.set_correlation_id(None)


handler = lambda_handler(ingest)
