"""The audit trail and the change events: one record per successful write, in every service.

A write and its record are one step: ``recorded`` runs the write and appends its record (and
the record's outbox entry) in one database transaction (``AuditTrail.atomically``), so
neither exists without the other. Why a transaction, not the record inside the changed
document: Assets DB records, registrations and components are deleted for good, and a
deleted document carries nothing; a transaction covers every write the same way.

The outbox is drained to EventBridge (``AuditTrail.publish``): at once after the write, best
effort, and every minute by the outbox function, which retries whatever the bus refused. Each
resource is one stream with its own sequence: its records are published in that order, one
drainer at a time, and an entry leaves the outbox only once the bus has taken it, so every
record is published at least once and a stream never out of order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from assets_core.errors import Forbidden, InvalidInput
from assets_core.identity import SYSTEM, current_caller, now_iso, stamp_of
from assets_core.ports import AuditTrail

# Each service's events come from ``assets-registry.<service>``.
REGISTRY = "registry"
ASSETDB = "assetdb"
DBREGISTRY = "dbregistry"
COMPONENTS = "components"
SOURCE_PREFIX = "assets-registry."
# The actor of the system's own work (the purge, the janitor).
SYSTEM_ACTOR = "system"


# The resources each service's records name.
ASSET = "asset"  # a registry asset (its versions, aliases and lineage too)
UPLOAD = "upload"
ASSET_RECORD = "asset_record"  # an Assets DB record
REGISTRATION = "asset_registry"  # an Assets DB's registration
COMPONENT = "component"


@dataclass(frozen=True)
class Change:
    """What one write did, as its audit record names it (``action`` is also the event's
    detail-type)."""

    action: str
    resource: str
    id: str
    version: str | None = None
    changes: tuple[str, ...] | None = None
    # Fields an event rule may filter on (the registry's asset_type).
    detail: Mapping[str, Any] = field(default_factory=dict)


def actor() -> str:
    """Who is writing: the caller's subject, or ``system``."""
    caller = current_caller()
    return SYSTEM_ACTOR if caller is SYSTEM else stamp_of(caller)


def record_of(service: str, change: Change, *, at: str, by: str, seq: int) -> dict[str, Any]:
    """The audit record of a change: the contract's fields, then what rules filter on, and
    the record's place in its resource's stream."""
    record: dict[str, Any] = {
        "at": at,
        "actor": by,
        "action": change.action,
        "service": service,
        "resource": change.resource,
        "id": change.id,
    }
    if change.version is not None:
        record["version"] = change.version
    if change.changes is not None:
        record["changes"] = sorted(change.changes)
    record.update(change.detail)
    record["seq"] = seq
    return record


def stream_of(service: str, resource: str, resource_id: str) -> str:
    """The stream of one resource: its records' order is its sequence."""
    return f"{service}/{resource}/{resource_id}"


type Described[T] = (
    Change | Iterable[Change] | Callable[[T], Change | Iterable[Change] | None] | None
)


def recorded[T](
    trail: AuditTrail | None, service: str, work: Callable[[], T], described: Described[T]
) -> T:
    """Run ``work`` (a write) and append its audit records in the same transaction; then
    publish them. ``described`` names the changes, or builds them from ``work``'s result."""
    if trail is None:
        return work()
    streams: list[str] = []

    def step() -> T:
        streams.clear()  # a transaction run again appends again
        result = work()
        found = described(result) if callable(described) else described
        changes = [found] if isinstance(found, Change) else list(found or ())
        for change in changes:
            streams.append(append(trail, service, change))
        return result

    result = trail.atomically(step)
    # One batch per stream at once (its oldest: the order holds); a backlog is the outbox
    # function's, never the request's.
    trail.publish(streams, max_batches=1)
    return result


class _Recorded(Exception):
    """The stream holds a record already."""


def recorded_once(trail: AuditTrail | None, service: str, change: Change) -> None:
    """Append the change's record unless its resource's stream holds one already: an
    outcome (an upload's failure) that a run delivered again, or the janitor, would
    otherwise record twice."""
    if trail is None:
        return
    stream = stream_of(service, change.resource, change.id)

    try:
        trail.atomically(lambda: append(trail, service, change, first_only=True))
    except _Recorded:
        return
    trail.publish([stream], max_batches=1)


def append(trail: AuditTrail, service: str, change: Change, *, first_only: bool = False) -> str:
    """Append the change's record (and its outbox entry) within the write's transaction,
    numbered in its resource's stream; the stream. ``first_only``: only as the stream's
    first record (else ``_Recorded``, and the step is undone with the transaction)."""
    stream = stream_of(service, change.resource, change.id)
    seq = trail.step(stream)
    if first_only and seq > 1:
        raise _Recorded
    record = record_of(service, change, at=now_iso(), by=actor(), seq=seq)
    trail.write(stream, seq, record, SOURCE_PREFIX + service, change.action)
    return stream


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], ignore: Iterable[str] = ()
) -> tuple[str, ...]:
    """The top-level fields an update changed, added or removed (server stamps aside)."""
    skipped = {"updated_at", "updated_by", "created_at", "created_by", *ignore}
    names = (set(before) | set(after)) - skipped
    return tuple(sorted(name for name in names if before.get(name) != after.get(name)))


def asset_types(document: Mapping[str, Any]) -> list[str]:
    """The asset types of a registry asset's profiles, for event rules (an EventBridge
    pattern on a list matches when any element does)."""
    found = []
    for profile in document.get("profiles") or []:
        if isinstance(profile, Mapping) and isinstance(profile.get("asset_type"), str):
            found.append(profile["asset_type"])
    return list(dict.fromkeys(found))


def asset_change(
    action: str, document: Mapping[str, Any], *, changes: tuple[str, ...] | None = None
) -> Change:
    """A change of a registry asset's version, with its asset types."""
    return Change(
        action,
        ASSET,
        str(document["asset_id"]),
        version=str(document.get("asset_version")),
        changes=changes,
        detail={"asset_type": asset_types(document)},
    )


def version_created(document: Mapping[str, Any]) -> Change:
    """A new version (an asset's first one too): what a pipeline starts on."""
    return asset_change("AssetVersionCreated", document)


def uploaded(document: Mapping[str, Any], upload_id: str) -> Change:
    """A version an uploaded bundle added (an asset's first one too)."""
    change = version_created(document)
    return replace(change, detail={**change.detail, "upload_id": upload_id})


def upload_failed(upload_id: str, reason: str) -> Change:
    """An upload that ended without a version: its outcome, with the reason."""
    return Change("UploadFailed", UPLOAD, upload_id, detail={"reason": reason[:1000]})


def audit_query(
    *, resource: str | None, id: str | None, actor: str | None, since: str | None
) -> dict[str, Any]:
    """The filter of ``GET /registry/audit`` (admins only): each one given must match."""
    caller = current_caller()
    if not caller.is_admin:
        raise Forbidden("The audit trail is for assets-admins only.")
    query: dict[str, Any] = {}
    for name, value in (("resource", resource), ("id", id), ("actor", actor)):
        if value is not None:
            query[name] = value
    if since is not None:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            stamp = moment.astimezone(UTC).isoformat(timespec="milliseconds")
        except (ValueError, OverflowError):
            raise InvalidInput(
                "since must be an ISO-8601 time, e.g. 2026-12-01T00:00:00Z.",
                code="INVALID_QUERY_PARAMETER",
            ) from None
        query["at"] = {"$gte": stamp.replace("+00:00", "Z")}
    return query
