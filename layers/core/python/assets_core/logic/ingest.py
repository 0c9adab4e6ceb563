"""Ingest of one uploaded bundle (spec 000): under the upload's processing lock, check it,
store its members and register the asset it describes, idempotently, leaving nothing behind
when it fails."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event, Thread
from typing import Any

from assets_core.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    ObjectRefused,
)
from assets_core.identity import current_caller
from assets_core.keys import members_prefix, next_run_key
from assets_core.logic import assets, audit, lineage
from assets_core.logic.bundle_writer import MemberWriter, read_groups, read_member, store_members
from assets_core.logic.bundles import (
    BundleRejected,
    FilePlan,
    Limits,
    OutOfTime,
    check_asset_id,
    check_keys,
    check_members,
    find_asset_json,
    name_contents,
    parse_asset_json,
    plan_files,
    validate_document,
)
from assets_core.logic.content import discard, hold, let_go, readable
from assets_core.logic.versions import entry_named, index_of, version_exists, version_key
from assets_core.logic.zipreader import BadArchive, Member, MemberData, read_directory, read_members
from assets_core.ports import DocumentStore, ObjectStore, StatusStore, Stores
from assets_core.scoping import unscoped

log = logging.getLogger(__name__)


class UploadBusy(Exception):
    """Another run holds this upload; the message should be delivered again later."""


@dataclass
class IngestStats:
    """What a run found in the bundle, for its metrics (0 until known)."""

    bytes: int = 0
    members: int = 0


def ingest_upload(
    upload_id: str,
    bundle_key: str,
    stores: Stores,
    limits: Limits,
    stats: IngestStats | None = None,
) -> dict[str, Any]:
    """Ingest one uploaded bundle, once: the upload's status record (final, or, for a bundle
    one run cannot finish, ``processing`` with the checkpoint the next run goes on from).
    ``stats``, when given, is filled in with the bundle's size and member count.

    A second delivery of the same upload finds the status final and changes nothing. A bundle
    that breaks a rule, or that the object store refuses (a 4xx that is the request's fault),
    ends in ``failed: <reason>`` with nothing stored; a store that does not answer, throttles
    or fails raises, so the message is delivered again. A run that reaches its deadline with
    members stored records them and writes the marker whose event starts the next run.
    """
    stats = stats or IngestStats()
    token = stores.status.lock(upload_id, limits.lock_seconds)
    if token is None:
        raise UploadBusy(f"upload {upload_id} is being processed by another run")
    keeper = LockKeeper(stores.status, upload_id, token, limits.lock_seconds)
    keeper.start()
    try:
        record, next_run = _ingest_locked(upload_id, bundle_key, stores, limits, stats)
    finally:
        keeper.stop()
        stores.status.unlock(upload_id, token)
    if next_run is not None:  # once the lock is free for the run it starts
        stores.objects.put(next_run_key(upload_id, next_run), b"", "application/zip")
    return record


def _ingest_locked(
    upload_id: str, bundle_key: str, stores: Stores, limits: Limits, stats: IngestStats
) -> tuple[dict[str, Any], int | None]:
    current = stores.status.get(upload_id) or {}
    status = str(current.get("status", ""))
    if status == "success" or status.startswith("failed"):
        return current, None
    upload_status = _UploadStatus(stores.status, upload_id, current)
    upload_status.put(status="processing")
    try:
        if not current_caller().can_write:
            raise BundleRejected(
                "the upload names no uploader allowed to write (its status expired, or it "
                "was not asked for through /zip/upload); ask for a new upload"
            )
        asset_id = _ingest(upload_id, bundle_key, stores, limits, upload_status, stats)
    except Continued as more:
        runs = _checkpoint(current).runs + 1
        checkpoint = {"stored": more.stored, "runs": runs}
        return upload_status.put(status="processing", checkpoint=checkpoint), runs + 1
    except (BundleRejected, ObjectRefused) as exc:
        # A refusal names the bundle's fault: delivering it again would end the same way.
        # Its record goes first, once: a run stopped between the two fails again and
        # finds it recorded.
        audit.recorded_once(stores.trail, audit.REGISTRY, audit.upload_failed(upload_id, str(exc)))
        record = upload_status.put(status=f"failed: {exc}", checkpoint=None)
        _discard_bundle(stores.objects, bundle_key)
        return record, None
    except BaseException:
        upload_status.put(status="queued")
        raise
    runs = _checkpoint(current).runs + 1
    record = upload_status.put(
        status="success", asset_id=asset_id, checkpoint=None, ingest_runs=runs
    )
    _discard_bundle(stores.objects, bundle_key)
    return record, None


class Continued(Exception):
    """A run reached its deadline with members stored: the next run goes on from them."""

    def __init__(self, stored: dict[str, str]) -> None:
        super().__init__(f"{len(stored)} members stored")
        self.stored = stored


@dataclass(frozen=True)
class Checkpoint:
    """What earlier runs of an upload stored (path -> SHA-256), and how many runs they were."""

    stored: dict[str, str]
    runs: int


def _checkpoint(record: dict[str, Any]) -> Checkpoint:
    found = record.get("checkpoint")
    if not isinstance(found, dict):
        return Checkpoint({}, 0)
    stored = found.get("stored")
    runs = found.get("runs")
    return Checkpoint(
        dict(stored) if isinstance(stored, dict) else {}, runs if isinstance(runs, int) else 0
    )


class _UploadStatus:
    """The upload's status record as this run last wrote it. Each change writes a new record:
    the one read at the start, and each one written, stay as they are."""

    def __init__(self, store: StatusStore, upload_id: str, record: dict[str, Any]) -> None:
        self.store = store
        self.upload_id = upload_id
        self.record = record

    def put(self, **changes: Any) -> dict[str, Any]:
        """Write the record with these fields changed (a field given None is removed); the
        record written."""
        merged = {**self.record, **changes}
        self.record = {k: v for k, v in merged.items() if k not in changes or v is not None}
        self.store.put(self.upload_id, self.record)
        return self.record


class LockKeeper(Thread):
    """Renews a run's processing lock every third of its lifetime until stopped. A lock it
    finds gone (expired through a long store stall) is logged: the conditional insert still
    keeps a second run from registering the asset twice."""

    def __init__(self, status: StatusStore, upload_id: str, token: str, seconds: int) -> None:
        super().__init__(name=f"lock-{upload_id}", daemon=True)
        self.status = status
        self.upload_id = upload_id
        self.token = token
        self.seconds = seconds
        self.stopping = Event()
        self.renewals = 0
        self.lost = Event()

    def run(self) -> None:
        while not self.stopping.wait(self.seconds / 3):
            try:
                if self.status.renew(self.upload_id, self.token, self.seconds):
                    self.renewals += 1
                    continue
                self.lost.set()
                log.warning("The processing lock of upload %s expired", self.upload_id)
                return
            except AppError:
                log.warning("Could not renew the lock of upload %s", self.upload_id)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


def _check_declared(objects: ObjectStore, key: str, record: dict[str, Any]) -> None:
    """A bundle whose uploader declared its SHA-256 (or, sent in parts, its CRC32) was
    checked by the object store as it arrived; its stored checksum is compared again (a
    bundle stored another way, without the checksum, is refused as well)."""
    sha256 = record.get("sha256")
    session = record.get("session")
    crc32 = session.get("crc32") if isinstance(session, dict) else None
    if not sha256 and not crc32:
        return
    head = objects.head(key)
    if sha256:
        stored = head.sha256 if head is not None else None
        if stored != sha256:
            raise BundleRejected(
                f"the bundle's SHA-256 is {stored or 'unknown'}, not the {sha256} its upload "
                "declared"
            )
    if crc32:
        whole = f"{head.crc32:08x}" if head is not None and head.crc32 is not None else None
        if whole != crc32:
            raise BundleRejected(
                f"the bundle's CRC32 is {whole or 'unknown'}, not the {crc32} its upload declared"
            )


def _discard_bundle(objects: ObjectStore, key: str) -> None:
    try:
        objects.delete([key])
    except AppError:
        log.warning("Could not delete %s; the bucket's lifecycle rule will", key)


def _ingest(
    upload_id: str,
    bundle_key: str,
    stores: Stores,
    limits: Limits,
    upload_status: _UploadStatus,
    stats: IngestStats,
) -> str:
    objects = stores.objects
    size = objects.size(bundle_key)
    if size is None:
        raise BundleRejected("the uploaded bundle is no longer in storage; upload it again")
    _check_declared(objects, bundle_key, upload_status.record)
    in_parts = isinstance(upload_status.record.get("session"), dict)
    largest = limits.max_session_bytes if in_parts else limits.max_object_bytes
    if size > largest:
        raise BundleRejected(f"the bundle is {size} bytes; at most {largest} are allowed")
    stats.bytes = size
    try:
        members, directory_start = read_directory(objects, bundle_key, size)
        files = check_members(members, limits)
        stats.members = len(files)
        manifest = find_asset_json(files)
        done = _checkpoint(upload_status.record)
        remaining = [member for member in files.values() if member.name not in done.stored]
        groups = read_groups(remaining, directory_start, limits.read_streams)
        reads = [read_members(objects, bundle_key, run, run_end) for run, run_end in groups]
        if groups[0][0][0] is manifest:  # it leads the archive, as the `assets` CLI writes it
            head = next(reads[0])  # the first read starts here and goes on from asset.json
            raw_json = b"".join(head.chunks)
        else:
            raw_json = read_member(objects, bundle_key, manifest, directory_start)
    except BadArchive as exc:
        raise BundleRejected(str(exc)) from exc
    with _closing_all(reads):
        return _register(
            upload_id, bundle_key, stores, limits, upload_status, raw_json, files, reads, done
        )


@contextmanager
def _closing_all(reads: list[Generator[MemberData]]) -> Iterator[None]:
    """Close every read when ingest ends: one that was opened and not finished (a rejected
    asset.json, a failure elsewhere) releases its connection."""
    try:
        yield
    finally:
        for read in reads:
            read.close()


def _register(
    upload_id: str,
    bundle_key: str,
    stores: Stores,
    limits: Limits,
    upload_status: _UploadStatus,
    raw_json: bytes,
    files: dict[str, Member],
    reads: list[Generator[MemberData]],
    done: Checkpoint,
) -> str:
    document = parse_asset_json(raw_json)
    asset_id = check_asset_id(document)
    prefix = members_prefix(asset_id, upload_id)
    plan = plan_files(document, files, lambda path: prefix + path, stores.objects.url_of)
    if plan.named:  # files named by sha256: content the uploader may read, held already
        named = [sha256 for sha256, _ in plan.named.values()]
        held = readable(named, blobs=stores.blobs, versions=stores.versions)
        name_contents(plan, held, stores.objects.url_of)
    check_keys(plan, limits.max_key_bytes)
    validate_document(plan.document)
    # Said as soon as known: whoever settles this upload later (the dead-letter consumer)
    # finds the folder this run writes, even if the run dies without another word.
    version = str(plan.document["asset_version"])
    upload_status.put(asset_id=asset_id, asset_version=version, status="processing")
    existing = _target(stores, asset_id, version, prefix)
    if existing is not _REGISTERED:
        _store_and_commit(
            plan, asset_id, upload_id, bundle_key, stores, limits, reads, existing, done
        )
    return asset_id


_REGISTERED: dict[str, Any] = {}  # what ``_target`` answers for an upload registered before


def _target(stores: Stores, asset_id: str, version: str, prefix: str) -> dict[str, Any] | None:
    """The asset this upload adds a version to (None: it creates the asset), checked before
    any byte is stored; ``_REGISTERED`` when an earlier run of this upload registered it (and
    stopped before saying so)."""
    existing = stores.documents.get(asset_id)  # as the uploader sees it: live, visible
    if existing is None:
        hidden = unscoped(stores.documents).get(asset_id)
        if hidden is not None and index_of(hidden).get("deleted_at"):
            raise BundleRejected(
                f"the asset_id '{asset_id}' belongs to a deleted asset; restore it "
                f"(POST /registry/assets/{asset_id}/restore) or choose another id"
            )
        if hidden is not None:
            raise BundleRejected(f"an asset with asset_id '{asset_id}' already exists")
        return None
    if registered_by(existing, prefix):
        # Committed by an earlier run; one whose files were lost since stores them again
        # (the commit then finds its version there and changes nothing).
        return _REGISTERED if files_stored(existing, stores.objects) else existing
    entry = entry_named(index_of(existing), version)
    if entry is not None:
        raise BundleRejected(str(version_exists(asset_id, entry)).rstrip("."))
    if not current_caller().may_change(existing.get("created_by")):
        raise BundleRejected(
            f"the asset '{asset_id}' exists and belongs to another owner; only its owner or "
            "an assets-admin may add a version to it"
        )
    return existing


def _store_and_commit(
    plan: FilePlan,
    asset_id: str,
    upload_id: str,
    bundle_key: str,
    stores: Stores,
    limits: Limits,
    reads: list[Generator[MemberData]],
    existing: dict[str, Any] | None,
    done: Checkpoint,
) -> None:
    """Store the planned members (less those earlier runs stored), hold their content (a
    content stored before is kept once: the bytes just written are removed), and commit the
    asset or its new version. A failure releases and removes what the runs stored, unless the
    commit was applied after all; a failure the next delivery may get past keeps what earlier
    runs stored, and a run out of time with members stored hands over to the next run."""
    objects = stores.objects
    writer = MemberWriter(objects, bundle_key, limits)
    ref = upload_ref(asset_id, str(plan.document["asset_version"]), upload_id)
    kept = {plan.keys[path] for path in done.stored if path in plan.keys}
    run = _Run(writer, stores, members_prefix(asset_id, upload_id), asset_id, ref, kept)
    fresh: dict[str, str] = {}
    try:
        store_members(plan, reads, writer, fresh)
        writer.flush()
        planned = validate_document(plan.with_digests({**done.stored, **fresh}))
        held = hold(planned.document(), ref, blobs=stores.blobs, objects=objects)
        discard(held.duplicates, objects)
        asset = validate_document(held.document)
        _commit(asset, planned.declared_lineage(), existing, stores, ref, upload_id)
    except OutOfTime as exc:
        raise _out_of_time(run, done, fresh, limits, exc) from exc
    except BadArchive as exc:
        run.clean_up()
        raise BundleRejected(str(exc)) from exc
    except AlreadyExists as exc:
        if run.clean_up():
            return  # an insert the driver retried had been applied
        raise BundleRejected(f"an asset with asset_id '{asset_id}' already exists") from exc
    except (Conflict, Forbidden, NotFound) as exc:
        # Another upload added this version first, or the asset went (or its owner changed
        # who may write it) while the bytes were stored.
        run.clean_up()
        raise BundleRejected(exc.message.rstrip(".")) from exc
    except ObjectRefused as exc:
        run.clean_up()
        raise _refusal(plan, exc) from exc
    except Exception:
        # The commit may have been applied although the driver reported an error: cleaning
        # up then would leave a registered asset without its files (``clean_up`` looks
        # first; if even looking fails, everything stays for the redelivery to find).
        if run.clean_up(keep_earlier_runs=True):
            return
        raise
    except BaseException:
        run.clean_up(keep_earlier_runs=True)
        raise
    finally:
        writer.close()


def _out_of_time(
    run: _Run, done: Checkpoint, fresh: dict[str, str], limits: Limits, reached: OutOfTime
) -> Exception:
    """What a run that reached its deadline ends with: the members stored so far for the next
    run (once this run's last writes are done and its unfinished ones aborted), unless it
    stored none (the next run would do no better) or it was the last run allowed."""
    try:
        run.writer.flush()
    except Exception:
        run.clean_up(keep_earlier_runs=True)
        raise
    run.writer.abort_open()
    if not fresh:
        run.clean_up()
        return BundleRejected(
            f"{reached}: a run stored no member in its time (a member too large to store in "
            "one run)"
        )
    if done.runs + 1 >= limits.max_runs:
        run.clean_up()
        return BundleRejected(f"{reached}, in {limits.max_runs} runs")
    return Continued({**done.stored, **fresh})


def upload_ref(asset_id: str, version: str, upload_id: str) -> str:
    """What an upload's version holds its content by: one per upload, so a run delivered
    again holds the same content by the same reference, and the janitor settling the upload
    knows what to release."""
    return f"{version_key(asset_id, version)}#{upload_id}"


def _commit(
    asset: Any,
    declared: list[dict[str, Any]],
    existing: dict[str, Any] | None,
    stores: Stores,
    ref: str,
    upload_id: str,
) -> None:
    """Register the new asset, or add its new version to ``existing``, with the lineage its
    asset.json ``declared``, and its audit record."""
    register = assets.create if existing is None else assets.add_uploaded
    audit.recorded(
        stores.trail,
        audit.REGISTRY,
        lambda: _with_lineage(
            declared,
            register(
                asset,
                store=stores.documents,
                versions=stores.versions,
                vault=stores.vault,
                ref=ref,
                upload_id=upload_id,
            ),
            stores,
        ),
        lambda document: audit.uploaded(document, upload_id),
    )


def _with_lineage(
    declared: list[dict[str, Any]], document: dict[str, Any], stores: Stores
) -> dict[str, Any]:
    """The new version, once the edges its asset.json declares are recorded (in its
    transaction: a target that is missing or hidden fails the bundle)."""
    if stores.lineage is not None:
        lineage.declare(
            document,
            declared,
            edges=stores.lineage,
            store=stores.documents,
            versions_store=stores.versions,
        )
    return document


def _refusal(plan: FilePlan, refused: ObjectRefused) -> BundleRejected:
    """The object store's refusal, naming the member it refused when it was one."""
    paths = {key: path for path, key in plan.keys.items()}
    if refused.key in paths:
        return BundleRejected(
            f"the object store refused member '{paths[refused.key]}': {refused.reason}"
        )
    return BundleRejected(f"the object store refused the bundle: {refused.reason}")


def _inserted_by_this_run(documents: DocumentStore, asset_id: str, prefix: str) -> bool:
    found = documents.get(asset_id)
    return found is not None and registered_by(found, prefix)


def files_stored(document: dict[str, Any], objects: ObjectStore) -> bool:
    """Whether every file the document keeps in this bucket is there."""
    for entry in document.get("files") or []:
        key = (
            objects.key_of(str(entry.get("asset_file_url") or ""))
            if isinstance(entry, dict)
            else None
        )
        if key is not None and objects.size(key) is None:
            return False
    return True


def registered_by(document: dict[str, Any], prefix: str) -> bool:
    """Whether the upload whose folder is ``prefix`` (``assets/<asset_id>/<upload_id>/``)
    added a version of this asset: its entry names the upload (or, for an asset stored
    before versions, its files' keys carry the upload's folder)."""
    upload_id = prefix.rstrip("/").rsplit("/", 1)[-1]
    if any(entry.get("upload_id") == upload_id for entry in index_of(document)["versions"]):
        return True
    urls = [f.get("asset_file_url", "") for f in document.get("files") or [] if isinstance(f, dict)]
    return any(isinstance(url, str) and f"/{prefix}" in url for url in urls)


@dataclass
class _Run:
    """What one run of an upload wrote: its members under ``prefix``, the content it holds
    by ``ref``, and the writer's open multipart uploads."""

    writer: MemberWriter
    stores: Stores
    prefix: str
    asset_id: str
    ref: str
    earlier: set[str]  # the keys of the members earlier runs stored (the checkpoint's)

    def clean_up(self, *, keep_earlier_runs: bool = False) -> bool:
        """Remove everything the runs wrote: open multipart uploads, the content this run
        held, and the stored members (less any that another version came to hold meanwhile,
        and, for a failure the next delivery may get past, those of the checkpoint); unless
        this upload's version is committed (the driver reported an error for a write it
        applied, or a run delivered again), which keeps all it holds: True then."""
        self.writer.close()
        self.writer.abort_open()
        if _inserted_by_this_run(unscoped(self.stores.documents), self.asset_id, self.prefix):
            return True
        let_go(self.ref, blobs=self.stores.blobs, objects=self.stores.objects)
        kept = self.earlier if keep_earlier_runs else set()

        def keep(keys: list[str]) -> set[str]:
            return self.stores.blobs.keys_in_use(keys) | (kept & set(keys))

        self.stores.objects.delete_prefix(self.prefix, keep=keep)
        return False
