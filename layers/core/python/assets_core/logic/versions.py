"""Versions, aliases and deletion of the Assets Registry's assets (the contract's "Versions,
aliases and deletion").

Where they live:

- the **assets** collection holds one document per ``asset_id``: its current version's
  document, with the server's bookkeeping under ``_registry`` (never shown): ``versions``, one
  entry per version, oldest first (``asset_version``, who added it and when, its file count
  and bytes, the ``ref`` its stored content is held by, the upload that added it, and, once
  deleted, ``deleted_at`` and ``purge_after``); ``aliases`` (alias -> version); and, for a
  deleted asset, ``deleted_at`` and ``purge_after``;
- the **asset_versions** collection holds every version's document (key
  ``<asset_id>/<asset_version>``), for reads of earlier versions and ``all_versions`` queries.

The asset's document is the truth: a version exists when its entry is there, and every change
(a version added, an alias moved, a deletion) is one conditional write of that document over
the revision read, rebuilt and tried again when another change came first; so two uploads of
new versions both land, in the order they complete, and two of the same version cannot. The
current version is the newest one not deleted. An earlier version's document is written to
asset_versions *before* the write that makes it earlier, so it is there whenever the asset's
document says it is earlier; the current version's copy is rewritten after each write.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from assets_core.collections import REGISTRY_FIELD, VERSION_KEY
from assets_core.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from assets_core.identity import current_caller, now_iso, sees, stamp_of, without_server_fields
from assets_core.logic.credentials import shown
from assets_core.logic.revisions import Precondition, modify
from assets_core.pagination import Page, PageRequest, take_page
from assets_core.ports import DocumentStore, Versioned
from assets_core.scoping import unscoped

log = logging.getLogger(__name__)

LATEST = "latest"
LEGACY = "#legacy"  # the ref of an asset's one version, stored before versions existed
ALIAS = re.compile(r"^[a-z0-9._-]{1,64}$")
VERSIONS_ROUTE = "POST /registry/assets/{asset_id}/versions"


class VersionStore(Protocol):
    """What the versions collection needs beyond a ``DocumentStore``."""

    def get(self, key: str) -> dict[str, Any] | None: ...
    def read(self, key: str) -> Versioned | None: ...
    def put(self, key: str, document: dict[str, Any]) -> None: ...
    def update_many(self, query: dict[str, Any], update: dict[str, Any]) -> int: ...
    def delete_many(self, query: dict[str, Any]) -> int: ...
    def delete(self, key: str, *, revision: int | None = None) -> bool: ...


def raw(store: DocumentStore) -> VersionStore:
    """The store under the caller's scope, with its bulk writes."""
    return cast(VersionStore, unscoped(store))


def version_key(asset_id: str, version: str) -> str:
    """A version's key: an asset_id holds no '/', so the pair reads back unambiguously."""
    return f"{asset_id}/{version}"


def new_ref(asset_id: str, version: str) -> str:
    """The reference a new version holds its stored content by: its own, even against a
    concurrent upload of the same version (whose references must not be released with it)."""
    return f"{version_key(asset_id, version)}#{uuid.uuid4().hex}"


# -- the index in the asset's document ---------------------------------------------------


def index_of(head: dict[str, Any]) -> dict[str, Any]:
    """The asset's versions index; an asset stored before versions existed has one version,
    its document."""
    index = head.get(REGISTRY_FIELD)
    if isinstance(index, dict) and isinstance(index.get("versions"), list) and index["versions"]:
        return {
            **index,
            "versions": [dict(e) for e in index["versions"]],
            "aliases": dict(index.get("aliases") or {}),
        }
    entry = entry_of(
        head,
        ref=version_key(str(head["asset_id"]), str(head["asset_version"])) + LEGACY,
        by=str(head.get("created_by") or "anonymous"),
        at=str(head.get("created_at") or now_iso()),
    )
    return {"versions": [entry], "aliases": {}}


def entry_of(
    document: dict[str, Any], *, ref: str, by: str, at: str, upload_id: str | None = None
) -> dict[str, Any]:
    """A version's entry in the index: what the versions list shows, and its reference."""
    files = [f for f in document.get("files") or [] if isinstance(f, dict)]
    total = 0
    for item in files:
        metadata = item.get("asset_file_metadata")
        size = metadata.get("size") if isinstance(metadata, dict) else None
        if isinstance(size, int) and not isinstance(size, bool):
            total += size
    entry: dict[str, Any] = {
        "asset_version": document["asset_version"],
        "created_at": at,
        "created_by": by,
        "file_count": len(files),
        "total_bytes": total,
        "ref": ref,
    }
    if upload_id:
        entry["upload_id"] = upload_id
    return entry


def live_entries(index: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in index["versions"] if not entry.get("deleted_at")]


def current_entry(index: dict[str, Any]) -> dict[str, Any]:
    live = live_entries(index)
    return live[-1] if live else index["versions"][-1]


def entry_named(index: dict[str, Any], version: str) -> dict[str, Any] | None:
    for entry in index["versions"]:
        if entry["asset_version"] == version:
            return entry
    return None


def check_alias(alias: str) -> None:
    if alias == LATEST:
        raise InvalidInput(
            "'latest' is always the newest version; it cannot be set or deleted.",
            code="INVALID_ALIAS",
        )
    if not ALIAS.fullmatch(alias):
        raise InvalidInput(
            f"'{alias[:80]}' is not an alias: use 1 to 64 of a-z, 0-9, '.', '_' and '-'.",
            code="INVALID_ALIAS",
        )


def resolve(asset_id: str, index: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """The live version a version name, an alias or ``latest`` (None: the current one) names;
    404 when none does."""
    if wanted is None or wanted == "" or wanted == LATEST:
        return current_entry(index)
    version = index["aliases"].get(wanted, wanted)
    entry = entry_named(index, version)
    if entry is None or entry.get("deleted_at"):
        raise NotFound(
            f"The asset '{asset_id}' has no version or alias '{wanted[:200]}'.",
            code="VERSION_NOT_FOUND",
        )
    return entry


def not_found(asset_id: str) -> NotFound:
    return NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRead:
    """One version of an asset as read: its shown document, the revision of the record it
    came from, which version it is, and whether it is the current one."""

    document: dict[str, Any]
    revision: int
    version: str
    current: bool

    @property
    def label(self) -> str:
        """Names this state of this version among the asset's (archives are keyed by it)."""
        if self.current:
            return str(self.revision)
        return f"v{uuid.uuid5(uuid.NAMESPACE_URL, self.version).hex[:16]}-{self.revision}"


def read(
    asset_id: str, wanted: str | None, *, store: DocumentStore, versions: DocumentStore
) -> VersionRead:
    """The version of the asset that ``wanted`` names (``resolve``), as the caller may see
    it: 404 for an asset that is hidden, deleted or unknown, or a version that is."""
    head = store.read(asset_id)
    if head is None:
        raise not_found(asset_id)
    index = index_of(head.document)
    entry = resolve(asset_id, index, wanted)
    current = current_entry(index)
    if entry is current:
        return VersionRead(shown(head.document), head.revision, entry["asset_version"], True)
    found = raw(versions).read(version_key(asset_id, entry["asset_version"]))
    if found is None:  # the index names it, so a write in progress is making it: not yet
        raise NotFound(
            f"The version '{entry['asset_version']}' of '{asset_id}' is not readable yet.",
            code="VERSION_NOT_FOUND",
        )
    return VersionRead(shown(found.document), found.revision, entry["asset_version"], False)


def listing(asset_id: str, page: PageRequest, *, store: DocumentStore) -> dict[str, Any]:
    """The asset's live versions, newest first, with their aliases, a page at a time."""
    head = store.get(asset_id)
    if head is None:
        raise not_found(asset_id)
    index = index_of(head)
    aliases: dict[str, list[str]] = {}
    for alias, version in sorted(index["aliases"].items()):
        aliases.setdefault(version, []).append(alias)
    newest = live_entries(index)[::-1]
    if newest:
        aliases.setdefault(newest[0]["asset_version"], []).insert(0, LATEST)

    def after_cursor() -> Iterator[dict[str, Any]]:
        started = page.after is None
        for entry in newest:
            if started:
                yield {
                    "asset_version": entry["asset_version"],
                    "created_at": entry["created_at"],
                    "created_by": entry["created_by"],
                    "file_count": entry["file_count"],
                    "total_bytes": entry["total_bytes"],
                    "aliases": aliases.get(entry["asset_version"], []),
                }
            elif entry["asset_version"] == page.after:
                started = True

    found: Page = take_page(after_cursor(), page.limit, "asset_version")
    return {"asset_id": asset_id, **found.body()}


# -- writes --------------------------------------------------------------------------------


def mirror(versions: DocumentStore, head: dict[str, Any], entry: dict[str, Any]) -> None:
    """Write a version's document (the asset's current one, ``head``) to asset_versions."""
    index = index_of(head)
    document = {k: v for k, v in head.items() if k not in (REGISTRY_FIELD, "_id")}
    marks: dict[str, Any] = {"ref": entry["ref"]}
    if entry.get("deleted_at"):
        marks["deleted_at"] = entry["deleted_at"]
    if index.get("deleted_at"):
        marks["asset_deleted_at"] = index["deleted_at"]
    key = version_key(str(head["asset_id"]), str(entry["asset_version"]))
    raw(versions).put(key, {**document, VERSION_KEY: key, REGISTRY_FIELD: marks})


def mirror_current(versions: DocumentStore, head: dict[str, Any]) -> None:
    """Rewrite the current version's copy after a write of the asset; a failure is logged,
    not raised (the change is made; the copy serves only ``all_versions`` queries, and the
    next write of the asset, or the purge run, writes it again)."""
    try:
        mirror(versions, head, current_entry(index_of(head)))
    except AppError:
        log.warning("Could not copy the current version of %s", head.get("asset_id"))


def mark_versions(versions: DocumentStore, asset_id: str, update: dict[str, Any]) -> None:
    """Apply ``update`` to the copies of every version of the asset; a failure is logged
    (the asset's document, written before, is the truth; the next change rewrites them)."""
    try:
        raw(versions).update_many({"asset_id": asset_id}, update)
    except AppError:
        log.warning("Could not mark the versions of %s", asset_id)


class HeadChange(Protocol):
    def __call__(self, head: Versioned, index: dict[str, Any]) -> dict[str, Any]: ...


def change(
    asset_id: str,
    build: HeadChange,
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> dict[str, Any]:
    """Read the asset (as the caller may change it), build its next document from it and
    its index, and write that over the revision read (``revisions.modify``: again from a
    fresh read when another write came first). The document written."""

    def write(head: Versioned) -> dict[str, Any]:
        document = build(head, index_of(head.document))
        if not store.replace(asset_id, document, revision=head.revision):
            raise not_found(asset_id)
        return document

    written, _ = modify(
        store,
        asset_id,
        write,
        precondition=precondition,
        missing=lambda: not_found(asset_id),
        what=f"The asset '{asset_id}'",
    )
    return written


def version_exists(asset_id: str, entry: dict[str, Any]) -> Conflict:
    version = entry["asset_version"]
    if entry.get("deleted_at"):
        return Conflict(
            f"The version '{version}' of '{asset_id}' is deleted but kept until "
            f"{entry.get('purge_after')}; restore it with POST /registry/assets/{asset_id}/"
            f"versions/{version}/restore, or choose another asset_version.",
            code="VERSION_DELETED",
        )
    return Conflict(
        f"The asset '{asset_id}' already has the version '{version}'; versions are "
        "immutable, so choose a new asset_version.",
        code="VERSION_EXISTS",
    )


def add(
    asset_id: str,
    document: dict[str, Any],
    *,
    store: DocumentStore,
    versions: DocumentStore,
    ref: str | None = None,
    upload_id: str | None = None,
) -> dict[str, Any]:
    """Add a version (``document``, a complete asset of this id) as the asset's current one;
    409 when the version exists. ``ref`` is what its stored content is held by (a new one
    when None). For an upload that added it already (``upload_id`` in its entry), the
    stored version, unchanged."""
    version = str(document["asset_version"])
    chosen_ref = ref or new_ref(asset_id, version)
    already: list[dict[str, Any]] = []

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        existing = entry_named(index, version)
        if existing is not None:
            if upload_id is not None and existing.get("upload_id") == upload_id:
                already.append(head.document)
                raise _Done
            raise version_exists(asset_id, existing)
        outgoing = current_entry(index)
        mirror(versions, head.document, outgoing)  # before it becomes an earlier version
        caller = current_caller()
        entry = entry_of(
            document, ref=chosen_ref, by=stamp_of(caller), at=now_iso(), upload_id=upload_id
        )
        index["versions"].append(entry)
        return {**without_server_fields(document), REGISTRY_FIELD: index}

    try:
        written = change(asset_id, build, store=store)
    except _Done:
        return shown(already[0])
    mirror_current(versions, written)
    return shown(written)


class _Done(Exception):
    """The change was made before: nothing to write."""


def set_alias(asset_id: str, alias: str, version: str, *, store: DocumentStore) -> dict[str, Any]:
    """Point ``alias`` at a live version (set or move it)."""
    check_alias(alias)

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        entry = resolve(asset_id, index, version)
        index["aliases"][alias] = entry["asset_version"]
        return {**head.document, REGISTRY_FIELD: index}

    written = change(asset_id, build, store=store)
    target = index_of(written)["aliases"][alias]
    return {"asset_id": asset_id, "alias": alias, "asset_version": target}


def delete_alias(asset_id: str, alias: str, *, store: DocumentStore) -> dict[str, Any]:
    """Remove an alias; 404 when the asset has none of that name."""
    check_alias(alias)

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        if alias not in index["aliases"]:
            raise NotFound(
                f"The asset '{asset_id}' has no alias '{alias}'.", code="ALIAS_NOT_FOUND"
            )
        del index["aliases"][alias]
        return {**head.document, REGISTRY_FIELD: index}

    change(asset_id, build, store=store)
    return {"success": True, "asset_id": asset_id, "alias": alias, "deleted": True}


def iso(moment: datetime) -> str:
    """A moment as the server's timestamps write it (``identity.now_iso``): they compare as
    strings."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def purge_after(now: datetime, retention_days: float) -> str:
    return iso(now + timedelta(days=retention_days))


def delete_version(
    asset_id: str,
    wanted: str,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    retention_days: float,
) -> dict[str, Any]:
    """Soft-delete one version: hidden from every read at once, restorable until its
    ``purge_after``. Deleting the current one makes the newest other live version current;
    the only live version cannot be deleted (delete the asset)."""
    deleted: list[dict[str, Any]] = []

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        entry = resolve(asset_id, index, wanted)
        live = live_entries(index)
        if len(live) == 1:
            raise Conflict(
                f"'{entry['asset_version']}' is the only version of '{asset_id}'; delete "
                f"the asset instead (DELETE /registry/assets/{asset_id}).",
                code="LAST_VERSION",
            )
        was_current = entry is live[-1]
        if was_current:
            mirror(versions, head.document, entry)  # kept, to be restored from
        now = datetime.now(UTC)
        entry["deleted_at"] = now_iso()
        entry["deleted_by"] = stamp_of(current_caller())
        entry["purge_after"] = purge_after(now, retention_days)
        moved = {a: v for a, v in index["aliases"].items() if v == entry["asset_version"]}
        entry["aliases"] = sorted(moved)
        for alias in moved:
            del index["aliases"][alias]
        deleted[:] = [entry]
        if not was_current:
            return {**head.document, REGISTRY_FIELD: index}
        return {**_document_of(asset_id, live[-2], versions), REGISTRY_FIELD: index}

    written = change(asset_id, build, store=store)
    entry = deleted[0]
    key = version_key(asset_id, entry["asset_version"])
    _mark_version(versions, key, {"$set": {f"{REGISTRY_FIELD}.deleted_at": entry["deleted_at"]}})
    mirror_current(versions, written)
    return {
        "success": True,
        "asset_id": asset_id,
        "asset_version": entry["asset_version"],
        "deleted": True,
        "restorable_until": entry["purge_after"],
    }


def _mark_version(versions: DocumentStore, key: str, update: dict[str, Any]) -> None:
    try:
        raw(versions).update_many({VERSION_KEY: key}, update)
    except AppError:
        log.warning("Could not mark the version %s", key)


def _document_of(asset_id: str, entry: dict[str, Any], versions: DocumentStore) -> dict[str, Any]:
    """An earlier version's document, to become the asset's current one."""
    found = raw(versions).get(version_key(asset_id, entry["asset_version"]))
    if found is None:
        raise Conflict(
            f"The version '{entry['asset_version']}' of '{asset_id}' is still being written; "
            "try again.",
            code="VERSION_NOT_READY",
        )
    return {k: v for k, v in found.items() if k not in (VERSION_KEY, REGISTRY_FIELD)}


def restore_version(
    asset_id: str, wanted: str, *, store: DocumentStore, versions: DocumentStore
) -> dict[str, Any]:
    """Bring back a deleted version, with the aliases it had (unless one was set since);
    the newest live version is current again. 404 after its retention (or unknown), 409 for
    a version that is not deleted."""
    restored: list[dict[str, Any]] = []

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        entry = entry_named(index, index["aliases"].get(wanted, wanted))
        if entry is None or _expired(entry):
            raise NotFound(
                f"The asset '{asset_id}' has no restorable version '{wanted[:200]}'.",
                code="VERSION_NOT_FOUND",
            )
        if not entry.get("deleted_at"):
            raise Conflict(
                f"The version '{wanted}' of '{asset_id}' is not deleted.", code="NOT_DELETED"
            )
        for name in ("deleted_at", "deleted_by", "purge_after"):
            entry.pop(name, None)
        for alias in entry.pop("aliases", []):
            index["aliases"].setdefault(alias, entry["asset_version"])
        restored[:] = [entry]
        if current_entry(index) is entry:
            return {**_document_of(asset_id, entry, versions), REGISTRY_FIELD: index}
        return {**head.document, REGISTRY_FIELD: index}

    written = change(asset_id, build, store=store)
    key = version_key(asset_id, restored[0]["asset_version"])
    _mark_version(versions, key, {"$unset": {f"{REGISTRY_FIELD}.deleted_at": ""}})
    mirror_current(versions, written)
    return {
        "success": True,
        "asset_id": asset_id,
        "asset_version": restored[0]["asset_version"],
        "restored": True,
    }


def _expired(marks: dict[str, Any], now: datetime | None = None) -> bool:
    until = marks.get("purge_after")
    return isinstance(until, str) and until <= iso(now or datetime.now(UTC))


def delete_asset(
    asset_id: str,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    retention_days: float,
    precondition: Precondition | None = None,
) -> dict[str, Any]:
    """Soft-delete the asset: it, its versions and aliases are hidden from every read at
    once, and its id stays reserved, restorable until ``purge_after``."""
    marks: dict[str, Any] = {}

    def build(head: Versioned, index: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        marks.update(
            deleted_at=now_iso(),
            deleted_by=stamp_of(current_caller()),
            purge_after=purge_after(now, retention_days),
        )
        index.update(marks)
        return {**head.document, REGISTRY_FIELD: index}

    change(asset_id, build, store=store, precondition=precondition)
    marked = {f"{REGISTRY_FIELD}.asset_deleted_at": marks["deleted_at"]}
    mark_versions(versions, asset_id, {"$set": marked})
    return {
        "success": True,
        "asset_id": asset_id,
        "deleted": True,
        "restorable_until": marks["purge_after"],
    }


def deleted_head(asset_id: str, store: DocumentStore) -> Versioned | None:
    """The asset's document if it is soft-deleted and the caller may see it."""
    found = unscoped(store).read(asset_id)
    if found is None or not index_of(found.document).get("deleted_at"):
        return None
    if not sees(current_caller(), found.document):
        return None
    return found


def restore_asset(
    asset_id: str, *, store: DocumentStore, versions: DocumentStore
) -> dict[str, Any]:
    """Bring back a soft-deleted asset with its versions and aliases (its owner or an
    admin): 404 when it is unknown, hidden or past its retention; 409 when it is not
    deleted."""
    every = unscoped(store)  # a deleted asset is in no scoped read

    def write(found: Versioned) -> dict[str, Any]:
        caller = current_caller()
        if not sees(caller, found.document):
            raise not_found(asset_id)
        index = index_of(found.document)
        if not index.get("deleted_at"):
            raise Conflict(f"The asset '{asset_id}' is not deleted.", code="NOT_DELETED")
        if _expired(index):
            raise NotFound(
                f"The asset '{asset_id}' was deleted and its retention has passed; it is "
                "being purged.",
                code="ASSET_NOT_FOUND",
            )
        if not caller.may_change(found.document.get("created_by")):
            raise Forbidden("Only the asset's owner or an assets-admin may restore it.")
        for name in ("deleted_at", "deleted_by", "purge_after"):
            index.pop(name, None)
        document = {**found.document, REGISTRY_FIELD: index}
        document.update(updated_by=stamp_of(caller), updated_at=now_iso())
        if not every.replace(asset_id, document, revision=found.revision):
            raise not_found(asset_id)
        return document

    document, _ = modify(
        every,
        asset_id,
        write,
        precondition=None,
        missing=lambda: not_found(asset_id),
        what=f"The asset '{asset_id}'",
    )
    mark_versions(versions, asset_id, {"$unset": {f"{REGISTRY_FIELD}.asset_deleted_at": ""}})
    mirror_current(versions, document)
    return shown(document)
