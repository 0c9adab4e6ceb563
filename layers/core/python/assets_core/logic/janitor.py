"""What no request cleans up: uploads whose message reached the dead-letter queue, and
stored objects that no record references.

An ingest run that is killed (or fails three times) leaves its upload ``processing`` or
``queued``, members it stored, unfinished multipart uploads and the bundle. The dead-letter
consumer settles each such upload once: ``success`` when an earlier run registered the asset
with all its files (the run died after the work, before saying so), else ``failed: <reason>``
with everything the runs stored removed. The periodic sweep removes the leftovers nothing
names at all: ``assets/<asset_id>/<upload_id>/`` folders no asset's files point into, and
``assetdb/<asset_id>/`` folders of records that no longer exist, once they are old enough
that no run can still be writing them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assets_core.errors import AppError
from assets_core.keys import ASSETDB_PREFIX, ASSETS_PREFIX, members_prefix
from assets_core.logic import audit
from assets_core.logic.content import let_go
from assets_core.logic.ingest import UploadBusy, registered_by, upload_ref
from assets_core.ports import DocumentStore, ObjectStore, Stores
from assets_core.routes import JANITOR
from assets_core.scoping import unscoped

log = logging.getLogger(__name__)

DEAD_LETTER_REASON = (
    "the upload could not be ingested: three runs failed or were stopped before finishing "
    "(the service was unavailable, or the bundle needs more time than one run has); "
    "upload it again"
)
# A settle holds the upload's processing lock for as long as the janitor can run: it does not
# renew it, and a run killed while holding it only delays the message's next delivery.
LOCK_SECONDS = JANITOR.timeout_s
# A folder younger than this may belong to a run still writing it: a message is delivered up
# to three times, each after the queue's visibility timeout (six times the ingest function's
# timeout), and each run lasts up to that timeout. A day is well past all of them (the infra
# tests check it against the synthesized queue and the ingest FunctionSpec).
SWEEP_MIN_AGE = timedelta(days=1)


def settle_dead_letter(
    upload_id: str, bundle_key: str, stores: Stores, *, reason: str = DEAD_LETTER_REASON
) -> dict[str, Any]:
    """Give an upload whose message reached the dead-letter queue its final status, and
    leave nothing behind; the status record."""
    token = stores.status.lock(upload_id, LOCK_SECONDS)
    if token is None:
        raise UploadBusy(f"upload {upload_id} is being processed by another run")
    try:
        current = stores.status.get(upload_id) or {"upload_id": upload_id}
        status = str(current.get("status", ""))
        if status == "success" or status.startswith("failed"):
            return current
        asset_id = current.get("asset_id") or _asset_of_upload(stores, upload_id)
        if isinstance(asset_id, str) and asset_id:
            prefix = members_prefix(asset_id, upload_id)
            existing = unscoped(stores.documents).get(asset_id)
            if existing is not None and registered_by(existing, prefix):
                # A version is committed only once all its files are stored and held.
                record = {**current, "status": "success", "asset_id": asset_id}
                stores.status.put(upload_id, record)
                _discard(stores.objects, bundle_key)
                return record
            stores.objects.abort_uploads_under(prefix)
            version = current.get("asset_version")
            if isinstance(version, str) and version:
                let_go(
                    upload_ref(asset_id, version, upload_id),
                    blobs=stores.blobs,
                    objects=stores.objects,
                )
            stores.objects.delete_prefix(prefix, keep=stores.blobs.keys_in_use)
        record = {**current, "status": f"failed: {reason}"}
        audit.recorded_once(stores.trail, audit.REGISTRY, audit.upload_failed(upload_id, reason))
        stores.status.put(upload_id, record)
        _discard(stores.objects, bundle_key)
        return record
    finally:
        stores.status.unlock(upload_id, token)


def _asset_of_upload(stores: Stores, upload_id: str) -> str | None:
    """The asset whose files an upload stored, found by the upload's folder in their URLs
    (for a status record written before the asset was known)."""
    pattern = {"$regex": f"/{re.escape(ASSETS_PREFIX)}[^/]+/{re.escape(upload_id)}/"}
    found = stores.documents.find({"files.asset_file_url": pattern}, limit=1)
    return str(found[0]["asset_id"]) if found else None


def _discard(objects: ObjectStore, key: str) -> None:
    try:
        objects.delete([key])
    except AppError:
        log.warning("Could not delete %s; the bucket's lifecycle rule will", key)


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)
    kept: int = 0

    def summary(self) -> dict[str, Any]:
        return {"removed": len(self.removed), "kept": self.kept, "prefixes": self.removed}


def sweep(
    stores: Stores,
    assetdb: DocumentStore,
    *,
    now: datetime,
    min_age: timedelta = SWEEP_MIN_AGE,
) -> SweepReport:
    """Remove stored folders no record references and no run can still be writing."""
    report = SweepReport()
    objects = stores.objects
    cutoff = now - min_age
    for asset_prefix in objects.child_prefixes(ASSETS_PREFIX):
        asset_id = asset_prefix[len(ASSETS_PREFIX) : -1]
        document = unscoped(stores.documents).get(asset_id)
        for upload_prefix in objects.child_prefixes(asset_prefix):
            upload_id = upload_prefix[len(asset_prefix) : -1]
            if _referenced(stores, document, upload_prefix):
                report.kept += 1
                continue
            record = stores.status.get(upload_id) or {}
            if _in_progress(record) or _young(objects, upload_prefix, cutoff):
                report.kept += 1
                continue
            objects.abort_uploads_under(upload_prefix)
            objects.delete_prefix(upload_prefix)
            report.removed.append(upload_prefix)
    for record_prefix in objects.child_prefixes(ASSETDB_PREFIX):
        asset_id = record_prefix[len(ASSETDB_PREFIX) : -1]
        if assetdb.get(asset_id) is not None or _young(objects, record_prefix, cutoff):
            report.kept += 1
            continue
        objects.delete_prefix(record_prefix)
        report.removed.append(record_prefix)
    log.info("Swept the bucket", extra={"removed": len(report.removed), "kept": report.kept})
    return report


def _referenced(stores: Stores, document: dict[str, Any] | None, prefix: str) -> bool:
    """Whether the folder's own asset, or any other (a bundle may keep an ``s3://`` URL to
    another asset's file), or any version of one (deleted ones too, until purged), names a
    file in it, or content held once is stored there."""
    if document is not None and registered_by(document, prefix):
        return True
    url = stores.objects.url_of(prefix)
    pattern = {"$regex": "^" + re.escape(url)}
    for store in (stores.documents, stores.versions):
        if unscoped(store).find({"files.asset_file_url": pattern}, limit=1):
            return True
    return stores.blobs.holds_under(prefix)


def _in_progress(record: dict[str, Any]) -> bool:
    status = str(record.get("status", ""))
    return bool(status) and status != "success" and not status.startswith("failed")


def _young(objects: ObjectStore, prefix: str, cutoff: datetime) -> bool:
    newest = objects.last_modified(prefix)
    return newest is not None and newest > cutoff
