"""The purge: an hourly EventBridge schedule removes, for good, the deleted assets and
versions whose ``RETENTION_DAYS`` have passed, and the stored content no version holds any
more (``assets_core.logic.retention``). Invoked with ``{"action": "migrate"}`` it runs the
one-off migration of assets stored before versions and content stored once (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assets_core.logic import retention
from assets_core.observability import MetricUnit, emit, lambda_handler, logger
from assets_core.stores.factory import (
    assets_store,
    audit_trail,
    blobs_store,
    credentials_vault,
    lineage_store,
    objects,
    versions_store,
)

MIGRATE = "migrate"


def catalog() -> retention.Catalog:
    return retention.Catalog(
        assets_store(),
        versions_store(),
        blobs_store(),
        objects(),
        credentials_vault(),
        trail=audit_trail(),
        lineage=lineage_store(),
    )


def purge(
    event: dict[str, Any],
    context: Any,
    *,
    chosen: retention.Catalog | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    stores = chosen or catalog()
    if isinstance(event, dict) and event.get("action") == MIGRATE:
        migrated = retention.migrate(stores)
        logger.info("Migrated", extra={"assets_migrated": migrated["assets_migrated"]})
        return migrated
    report = retention.purge_expired(stores, now=now or event_time(event))
    summary = report.summary()
    emit("PurgedAssets", summary["purged_assets"], MetricUnit.Count)
    emit("PurgedVersions", summary["purged_versions"], MetricUnit.Count)
    emit("PurgedObjects", summary["objects_deleted"], MetricUnit.Count)
    return summary


def event_time(event: Any) -> datetime:
    """When the schedule fired (an EventBridge event's ``time``), else now."""
    stamp = event.get("time") if isinstance(event, dict) else None
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return purge(event, context)


handler = lambda_handler(run)
