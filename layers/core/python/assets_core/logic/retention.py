"""What deletion keeps for ``RETENTION_DAYS``, removed for good: the scheduled purge (and an
admin's ``?purge=true``), and the one-off migration of assets stored before versions and
content stored once.

Purging a version releases the content its ``ref`` holds (``content.let_go``: content that
another version still holds stays), deletes its document and its credentials' secret, and
only then drops it from the asset's index; purging an asset does that for every version and
then deletes the asset's document. Each step is idempotent and the asset's document goes
last, so a purge that is stopped halfway is finished by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assets_core.collections import REGISTRY_FIELD
from assets_core.errors import AppError, Forbidden, RevisionConflict
from assets_core.identity import current_caller, now_iso
from assets_core.logic import audit, content, lineage, versions
from assets_core.logic.credentials import SECRET_REF, forget
from assets_core.ports import AuditTrail, BlobStore, DocumentStore, ObjectStore, Vault
from assets_core.scoping import unscoped

log = logging.getLogger(__name__)

BATCH = 100


@dataclass
class Catalog:
    """What a purge works with."""

    assets: DocumentStore
    versions: DocumentStore
    blobs: BlobStore
    objects: ObjectStore
    vault: Vault | None = None
    trail: AuditTrail | None = None  # where the scheduled purge records what it removed
    lineage: Any = None  # the edges to and from versions (``logic.lineage.EdgeStore``)


@dataclass
class PurgeReport:
    assets: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    objects_deleted: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "purged_assets": len(self.assets),
            "purged_versions": len(self.versions),
            "objects_deleted": self.objects_deleted,
            "failed": self.failed,
        }


def purge_now(asset_id: str, catalog: Catalog) -> dict[str, Any]:
    """An admin's ``DELETE ...?purge=true``: the asset (live, or deleted and kept) is
    soft-deleted with no retention left (so nobody restores it meanwhile, and a purge stopped
    halfway is finished by the next run), then purged."""
    caller = current_caller()
    if not caller.is_admin:
        raise Forbidden("Only an assets-admin may purge an asset at once (?purge=true).")
    if versions.deleted_head(asset_id, catalog.assets) is None:
        versions.delete_asset(
            asset_id, store=catalog.assets, versions=catalog.versions, retention_days=0
        )
    report = PurgeReport()
    purge_asset(asset_id, catalog, report)
    return {"success": True, "asset_id": asset_id, "deleted": True, "purged": True}


def purge_asset(asset_id: str, catalog: Catalog, report: PurgeReport) -> None:
    """Remove a deleted asset for good: every version's content, documents and secrets,
    then the asset's document."""
    found = unscoped(catalog.assets).read(asset_id)
    if found is None:
        return
    head = found.document
    index = versions.index_of(head)
    current = versions.current_entry(index)
    for entry in index["versions"]:
        _purge_version_content(asset_id, entry, head, entry is current, catalog, report)
    forget(head, catalog.vault)
    versions.raw(catalog.versions).delete_many({"asset_id": asset_id})
    if catalog.lineage is not None:
        lineage.forget(catalog.lineage, asset_id=asset_id)
    unscoped(catalog.assets).delete(asset_id, revision=found.revision)
    report.assets.append(asset_id)


def _purge_version_content(
    asset_id: str,
    entry: dict[str, Any],
    head: dict[str, Any],
    is_current: bool,
    catalog: Catalog,
    report: PurgeReport,
) -> None:
    """Release what the version holds and delete its secret (unless the asset's document,
    which is deleted after, names the same)."""
    key = versions.version_key(asset_id, entry["asset_version"])
    document = head if is_current else versions.raw(catalog.versions).get(key)
    if document is not None and str(entry["ref"]).endswith(versions.LEGACY):
        # Stored before content was held: hold it now, under its ref, to let it go below.
        held = content.hold(document, entry["ref"], blobs=catalog.blobs, objects=catalog.objects)
        content.discard(held.duplicates, catalog.objects)
    report.objects_deleted += content.let_go(
        entry["ref"], blobs=catalog.blobs, objects=catalog.objects
    )
    if document is not None and not is_current and document.get(SECRET_REF) != head.get(SECRET_REF):
        forget(document, catalog.vault)


def purge_version(asset_id: str, version: str, catalog: Catalog, report: PurgeReport) -> None:
    """Remove one deleted version for good, then its entry from the asset's index."""
    for _ in range(8):
        found = unscoped(catalog.assets).read(asset_id)
        if found is None:
            return
        index = versions.index_of(found.document)
        entry = versions.entry_named(index, version)
        if entry is None or not entry.get("deleted_at"):
            return
        is_current = entry is versions.current_entry(index)
        _purge_version_content(asset_id, entry, found.document, is_current, catalog, report)
        versions.raw(catalog.versions).delete(versions.version_key(asset_id, version))
        if catalog.lineage is not None:
            lineage.forget(catalog.lineage, asset_id=asset_id, version=version)
        index["versions"] = [e for e in index["versions"] if e is not entry]
        document = {**found.document, REGISTRY_FIELD: index}
        try:
            if unscoped(catalog.assets).replace(asset_id, document, revision=found.revision):
                report.versions.append(versions.version_key(asset_id, version))
            return
        except RevisionConflict:
            continue


def purge_expired(catalog: Catalog, *, now: datetime | None = None) -> PurgeReport:
    """The scheduled purge: every deleted asset and version whose retention has passed."""
    moment = versions.iso(now or datetime.now(UTC))
    report = PurgeReport()
    heads = unscoped(catalog.assets)
    for head in _due(heads, f"{REGISTRY_FIELD}.purge_after", moment):
        asset_id = str(head["asset_id"])
        _guarded(
            report,
            asset_id,
            lambda a=asset_id: _recorded(
                catalog,
                report,
                lambda: purge_asset(a, catalog, report),
                audit.Change("AssetPurged", audit.ASSET, a),
            ),
        )
    for head in _due(heads, f"{REGISTRY_FIELD}.versions.purge_after", moment):
        asset_id = str(head["asset_id"])
        for entry in versions.index_of(head)["versions"]:
            until = entry.get("purge_after")
            if isinstance(until, str) and until <= moment:
                version = str(entry["asset_version"])
                _guarded(
                    report,
                    f"{asset_id}/{version}",
                    lambda a=asset_id, v=version: _recorded(
                        catalog,
                        report,
                        lambda: purge_version(a, v, catalog, report),
                        audit.Change("AssetVersionPurged", audit.ASSET, a, version=v),
                    ),
                )
    summary = report.summary()
    log.info(
        "Purged",
        extra={
            "purged_assets": summary["purged_assets"],
            "purged_versions": summary["purged_versions"],
            "objects_deleted": summary["objects_deleted"],
        },
    )
    return report


def _recorded(catalog: Catalog, report: PurgeReport, purge: Any, change: audit.Change) -> None:
    """A purge, then its audit record when it removed something (the purge deletes
    objects, which no transaction covers; a run stopped between the two purges nothing
    more the next time, and records nothing)."""
    before = len(report.assets) + len(report.versions)
    purge()
    if len(report.assets) + len(report.versions) > before:
        audit.recorded(catalog.trail, audit.REGISTRY, lambda: None, change)


def _due(heads: DocumentStore, path: str, moment: str) -> Iterator[dict[str, Any]]:
    """Each asset whose ``path`` (a purge_after) is at or before ``moment``, once, a batch at
    a time (one that stays due, its purge having failed, is not read again this run)."""
    tried: set[str] = set()
    while True:
        due = heads.find({path: {"$lte": moment}, "asset_id": {"$nin": sorted(tried)}}, limit=BATCH)
        if not due:
            return
        for head in due:
            tried.add(str(head["asset_id"]))
            yield head


def _guarded(report: PurgeReport, name: str, action: Any) -> None:
    """One purge; a failure is logged and left for the next run (never the others')."""
    try:
        action()
    except AppError:
        log.exception("Could not purge %s; the next run retries", name)
        report.failed.append(name)


def adopt(asset_id: str, catalog: Catalog) -> bool:
    """Migrate one asset stored before versions and content stored once: its versions
    index written, and each stored file's content recorded as held by its version (a file
    whose content is already stored is pointed at that object, and its own is deleted).
    Idempotent: an asset that has an index is left as it is; False then."""
    for _ in range(8):
        found = unscoped(catalog.assets).read(asset_id)
        if found is None or isinstance(found.document.get(REGISTRY_FIELD), dict):
            return False
        index = versions.index_of(found.document)
        ref = index["versions"][0]["ref"]
        held = content.hold(found.document, ref, blobs=catalog.blobs, objects=catalog.objects)
        document = {**held.document, REGISTRY_FIELD: index}
        try:
            if not unscoped(catalog.assets).replace(asset_id, document, revision=found.revision):
                return False
        except RevisionConflict:
            continue
        versions.mirror_current(catalog.versions, document)
        content.discard(held.duplicates, catalog.objects)
        return True
    return False


def migrate(catalog: Catalog) -> dict[str, Any]:
    """The one-off migration of every asset stored before versions (``adopt``); running it
    again changes nothing."""
    migrated = 0
    seen = 0
    after = ""
    heads = unscoped(catalog.assets)
    while True:
        batch = heads.find({"asset_id": {"$gt": after}}, sort=[("asset_id", 1)], limit=BATCH)
        if not batch:
            break
        for head in batch:
            seen += 1
            if adopt(str(head["asset_id"]), catalog):
                migrated += 1
        after = str(batch[-1]["asset_id"])
    log.info("Migrated assets", extra={"seen": seen, "migrated": migrated, "at": now_iso()})
    return {"assets_seen": seen, "assets_migrated": migrated}
