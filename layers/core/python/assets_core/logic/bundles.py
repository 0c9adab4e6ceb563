"""ZIP bundles (spec 000): checking an uploaded bundle, storing its members and registering the
asset it describes, idempotently, leaving nothing behind when it fails."""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import time
import zlib
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from threading import Condition, Event, Thread
from typing import Any

from pydantic import ValidationError

from assets_core.errors import AlreadyExists, AppError, ObjectRefused, where_and_why
from assets_core.keys import ASSETS_PREFIX
from assets_core.logic import assets
from assets_core.logic.names import unsafe_name
from assets_core.logic.zipreader import (
    DEFLATED,
    LOCAL_HEADER,
    STORED,
    BadArchive,
    Member,
    MemberData,
    read_directory,
    read_members,
)
from assets_core.models.asset import Asset, is_asset_id
from assets_core.ports import MAX_KEY_BYTES, DocumentStore, ObjectStore, Part, StatusStore, Stores
from assets_core.storable import MAX_DEPTH, NotStorable, check_storable

log = logging.getLogger(__name__)

ASSET_JSON = "asset.json"
ASSET_JSON_MAX_BYTES = 1024 * 1024
RATIO_FLOOR_BYTES = 1024 * 1024
MIB = 1024 * 1024


class BundleRejected(Exception):
    """The bundle cannot be ingested; the message is the reason a person can act on."""


class UploadBusy(Exception):
    """Another run holds this upload; the message should be delivered again later."""


@dataclass(frozen=True)
class Limits:
    max_object_bytes: int
    max_members: int = 10_000
    max_expanded_bytes: int = 10 * 1024 * MIB
    max_ratio: int = 100
    part_bytes: int = 8 * MIB
    copy_min_bytes: int = 5 * MIB
    copy_part_bytes: int = 512 * MIB
    upload_threads: int = 3
    read_streams: int = 3
    # The processing lock lives this long unless renewed (every third of it, while the run
    # works): a killed run's lock frees the upload within a minute, long before the queue's
    # visibility timeout (6 x the function's timeout) delivers the message again.
    lock_seconds: int = 60
    max_key_bytes: int = MAX_KEY_BYTES
    # When this run must stop (time.monotonic()), leaving time to clean up before the
    # function's own deadline; None: no limit.
    deadline: float | None = None


class OutOfTime(Exception):
    """The run reached its deadline: the bundle is too slow to ingest in one run."""


def check_time(limits: Limits) -> None:
    if limits.deadline is not None and time.monotonic() > limits.deadline:
        raise OutOfTime("the bundle could not be ingested within the ingest function's time limit")


def _on_time(chunks: Iterator[bytes], limits: Limits) -> Iterator[bytes]:
    for chunk in chunks:
        check_time(limits)
        yield chunk


# -- checks on the central directory -------------------------------------------------------


def check_name(name: str) -> None:
    """Refuse member names that could escape a folder or be ambiguous."""
    reason = unsafe_name(name)
    if reason is not None:
        raise BundleRejected(reason)


def check_members(members: list[Member], limits: Limits) -> dict[str, Member]:
    """Apply the contract's rules to the directory; the file members by name."""
    if len(members) > limits.max_members:
        raise BundleRejected(
            f"the bundle has {len(members)} members; at most {limits.max_members} are allowed"
        )
    files: dict[str, Member] = {}
    seen: set[str] = set()
    total = 0
    for member in members:
        check_name(member.name)
        if member.name in seen:
            raise BundleRejected(f"member name '{member.name}' appears more than once")
        seen.add(member.name)
        if member.flags & 0x1:
            raise BundleRejected(
                f"member '{member.name}' is encrypted; encryption is not supported"
            )
        if member.method not in (STORED, DEFLATED):
            raise BundleRejected(
                f"member '{member.name}' uses compression method {member.method}; "
                "only stored and deflated members are supported"
            )
        if member.is_dir:
            continue
        if member.size > RATIO_FLOOR_BYTES and member.size > limits.max_ratio * max(
            member.compressed_size, 1
        ):
            raise BundleRejected(
                f"member '{member.name}' expands {member.size} bytes from "
                f"{member.compressed_size}: more than {limits.max_ratio} times (zip bomb)"
            )
        total += member.size
        if total > limits.max_expanded_bytes:
            raise BundleRejected(
                f"the bundle expands to more than {limits.max_expanded_bytes} bytes (the limit)"
            )
        files[member.name] = member
    return files


# -- asset.json and the files[] mapping ------------------------------------------------------


@dataclass
class FilePlan:
    """What ingest stores and registers: the document, and each member to store at a key."""

    document: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)  # member path -> object key
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # path -> entries


def parse_asset_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleRejected(f"asset.json is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise BundleRejected(f"asset.json is nested deeper than {MAX_DEPTH} levels") from exc
    if not isinstance(document, dict):
        raise BundleRejected("asset.json must hold a JSON object (an Asset document)")
    try:
        check_storable(document)
    except NotStorable as exc:  # checked before any member is stored
        raise BundleRejected(f"asset.json: {exc.message}") from exc
    return document


def _guess_mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def plan_files(
    document: dict[str, Any], files: dict[str, Member], key_of: Any, url_of: Any
) -> FilePlan:
    """Map files[] to members as the contract says and fill what ingest knows up front."""
    entries = document.get("files", [])
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise BundleRejected("asset.json: 'files' must be a list")
    plan = FilePlan(document=document)
    named: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BundleRejected(f"asset.json: files[{index}] must be an object")
        metadata = entry.get("asset_file_metadata") or {}
        if not isinstance(metadata, dict):
            raise BundleRejected(
                f"asset.json: files[{index}].asset_file_metadata must be an object"
            )
        path = metadata.get("path") or entry.get("asset_file_id")
        if isinstance(path, str) and path in files:
            named.add(path)
            _attach(plan, entry, path, files[path], key_of, url_of)
        elif entry.get("asset_file_url"):
            continue  # an external reference stays as it is
        else:
            raise BundleRejected(
                f"asset.json: files[{index}] names member '{path}', which is not in the bundle"
            )
    for path, member in files.items():
        if path == ASSET_JSON or path in named:
            continue
        entry = {"asset_file_id": path, "asset_file_type": "file"}
        entries.append(entry)
        _attach(plan, entry, path, member, key_of, url_of)
    document["files"] = entries
    document["asset_file_ids"] = [
        entry.get("asset_file_id") for entry in entries if isinstance(entry, dict)
    ]
    return plan


def _attach(
    plan: FilePlan, entry: dict[str, Any], path: str, member: Member, key_of: Any, url_of: Any
) -> None:
    key = key_of(path)
    plan.keys[path] = key
    plan.entries.setdefault(path, []).append(entry)
    entry.setdefault("asset_file_type", "file")
    entry.setdefault("asset_file_mime_type", _guess_mime(path))
    entry["asset_file_url"] = url_of(key)
    metadata = dict(entry.get("asset_file_metadata") or {})
    metadata.update({"path": path, "size": member.size, "crc32": member.crc})
    entry["asset_file_metadata"] = metadata


def check_keys(plan: FilePlan, max_key_bytes: int) -> None:
    """Refuse a member whose object key the store could not hold (its bytes of UTF-8)."""
    for path, key in plan.keys.items():
        size = len(key.encode())
        if size > max_key_bytes:
            raise BundleRejected(
                f"member '{path}' would be stored under a key of {size} bytes; the object "
                f"store allows at most {max_key_bytes} (shorten its path)"
            )


def validate_document(document: dict[str, Any]) -> Asset:
    """asset.json must be an Asset, under the same rules as POST /registry/assets."""
    try:
        return Asset.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            problems.append(
                f"unknown field '{'.'.join(str(part) for part in error['loc'])}'"
                if error["type"] == "extra_forbidden"
                else where_and_why(error, "asset")
            )
        raise BundleRejected("asset.json is not a valid Asset: " + "; ".join(problems)) from exc


# -- storing members -------------------------------------------------------------------------


class _Writer:
    """Writes members to the object store: one PUT for a small member, a multipart upload in
    bounded parts for a large one, and server-side part copies for a large stored member.
    Requests run on a pool while the archive is read on; the bytes they hold are bounded
    (``threads`` parts' worth), not their number, so many small members can be in flight."""

    MAX_REQUESTS = 16

    def __init__(self, objects: ObjectStore, bundle_key: str, limits: Limits) -> None:
        self.objects = objects
        self.bundle_key = bundle_key
        self.limits = limits
        self.pool = ThreadPoolExecutor(max_workers=self.MAX_REQUESTS)
        self.budget = limits.upload_threads * limits.part_bytes
        self.in_flight = 0
        self.requests = 0
        self.room = Condition()
        self.open_uploads: list[tuple[str, str]] = []
        self.pending: list[Future[Any]] = []

    def flush(self) -> None:
        """Wait for the small members still being written; raise the first failure."""
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def abort_open(self) -> None:
        for key, upload in self.open_uploads:
            self.objects.abort_multipart(key, upload)
        self.open_uploads.clear()

    def _submit(self, size: int, function: Any, *args: Any) -> Future[Any]:
        """Run a request on the pool once its ``size`` bytes fit in the budget (a request
        alone always fits) and a request slot is free."""
        with self.room:
            while self.requests >= self.MAX_REQUESTS or (
                self.in_flight and self.in_flight + size > self.budget
            ):
                self.room.wait()
            self.in_flight += size
            self.requests += 1

        def done(_: Future[Any]) -> None:
            with self.room:
                self.in_flight -= size
                self.requests -= 1
                self.room.notify_all()

        future = self.pool.submit(function, *args)
        future.add_done_callback(done)
        return future

    def write(
        self, key: str, member: Member, data_offset: int, chunks: Iterator[bytes], content_type: str
    ) -> str:
        """Store one member; its SHA-256 (hex)."""
        digest = hashlib.sha256()
        if member.size < self.limits.part_bytes:
            body = bytearray()
            for chunk in chunks:
                digest.update(chunk)
                body += chunk
            # Written on the pool while the next member is read.
            data = bytes(body)
            self.pending.append(self._submit(len(data), self.objects.put, key, data, content_type))
            return digest.hexdigest()
        upload = self.objects.start_multipart(key, content_type)
        self.open_uploads.append((key, upload))
        if member.method == STORED and member.size >= self.limits.copy_min_bytes:
            parts = self._copy(key, upload, member, data_offset, chunks, digest)
        else:
            parts = self._upload(key, upload, chunks, digest)
        self.objects.complete_multipart(key, upload, parts)
        self.open_uploads.remove((key, upload))
        return digest.hexdigest()

    def _copy(
        self,
        key: str,
        upload: str,
        member: Member,
        data_offset: int,
        chunks: Iterator[bytes],
        digest: Any,
    ) -> list[Part]:
        """Server-side part copies of a stored member; its bytes are read once here, for the
        SHA-256, the member's CRC and each part's CRC32 (which completing the upload checks
        against what the store copied)."""
        size = max(self.limits.copy_part_bytes, -(-member.size // 10_000))
        bounds = [(start, min(member.size, start + size)) for start in range(0, member.size, size)]
        etags = [
            self._submit(
                0,  # server-side: no bytes held here
                self.objects.copy_part,
                key,
                upload,
                number,
                self.bundle_key,
                data_offset + start,
                data_offset + end,
            )
            for number, (start, end) in enumerate(bounds, start=1)
        ]
        crcs: list[int] = []
        crc, left = 0, bounds[0][1]
        for chunk in chunks:
            digest.update(chunk)
            view = memoryview(chunk)
            while len(view) >= left > 0:  # the chunk ends a part
                crcs.append(zlib.crc32(view[:left], crc))
                view = view[left:]
                crc, left = 0, size
            crc = zlib.crc32(view, crc)
            left -= len(view)
        if len(crcs) < len(bounds):  # the last part ended with the last chunk's remainder
            crcs.append(crc)
        return [Part(future.result(), crc) for future, crc in zip(etags, crcs, strict=True)]

    def _upload(self, key: str, upload: str, chunks: Iterator[bytes], digest: Any) -> list[Part]:
        """Parts of ``part_bytes`` uploaded on the pool while the member is read on."""
        futures: list[Future[Part]] = []
        buffer = bytearray()
        size = self.limits.part_bytes
        for chunk in chunks:
            digest.update(chunk)
            buffer += chunk
            if len(buffer) >= size:
                with memoryview(buffer) as view:  # one copy of the part, not two
                    part_data = view[:size].tobytes()
                del buffer[:size]
                number = len(futures) + 1
                futures.append(
                    self._submit(size, self.objects.upload_part, key, upload, number, part_data)
                )
        if buffer or not futures:
            part_data = bytes(buffer)
            futures.append(
                self._submit(
                    len(part_data),
                    self.objects.upload_part,
                    key,
                    upload,
                    len(futures) + 1,
                    part_data,
                )
            )
        return [future.result() for future in futures]


# -- ingest ----------------------------------------------------------------------------------


def ingest_upload(
    upload_id: str, bundle_key: str, stores: Stores, limits: Limits
) -> dict[str, Any]:
    """Ingest one uploaded bundle, once: the upload's final status record.

    A second delivery of the same upload finds the status final and changes nothing. A bundle
    that breaks a rule, or that the object store refuses (a 4xx that is the request's fault),
    ends in ``failed: <reason>`` with nothing stored; a store that does not answer, throttles
    or fails raises, so the message is delivered again.
    """
    token = stores.status.lock(upload_id, limits.lock_seconds)
    if token is None:
        raise UploadBusy(f"upload {upload_id} is being processed by another run")
    keeper = LockKeeper(stores.status, upload_id, token, limits.lock_seconds)
    keeper.start()
    try:
        current = stores.status.get(upload_id) or {}
        status = str(current.get("status", ""))
        if status == "success" or status.startswith("failed"):
            return current
        stores.status.put(upload_id, {**current, "status": "processing"})
        try:
            asset_id = _ingest(upload_id, bundle_key, stores, limits, current)
        except (BundleRejected, ObjectRefused) as exc:
            # A refusal names the bundle's fault: delivering it again would end the same way.
            record = {**current, "status": f"failed: {exc}"}
            stores.status.put(upload_id, record)
            _discard_bundle(stores.objects, bundle_key)
            return record
        except BaseException:
            stores.status.put(upload_id, {**current, "status": "queued"})
            raise
        record = {**current, "status": "success", "asset_id": asset_id}
        stores.status.put(upload_id, record)
        _discard_bundle(stores.objects, bundle_key)
        return record
    finally:
        keeper.stop()
        stores.status.unlock(upload_id, token)


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


def _discard_bundle(objects: ObjectStore, key: str) -> None:
    try:
        objects.delete([key])
    except AppError:
        log.warning("Could not delete %s; the bucket's lifecycle rule will", key)


def _ingest(
    upload_id: str, bundle_key: str, stores: Stores, limits: Limits, record: dict[str, Any]
) -> str:
    objects = stores.objects
    size = objects.size(bundle_key)
    if size is None:
        raise BundleRejected("the uploaded bundle is no longer in storage; upload it again")
    if size > limits.max_object_bytes:
        raise BundleRejected(
            f"the bundle is {size} bytes; at most {limits.max_object_bytes} are allowed"
        )
    try:
        members, directory_start = read_directory(objects, bundle_key, size)
        files = check_members(members, limits)
        if ASSET_JSON not in files:
            raise BundleRejected("the bundle has no asset.json at its root")
        manifest = files[ASSET_JSON]
        if manifest.size > ASSET_JSON_MAX_BYTES:
            raise BundleRejected(f"asset.json is {manifest.size} bytes; at most 1 MiB is allowed")
        groups = read_groups(list(files.values()), directory_start, limits.read_streams)
        reads = [read_members(objects, bundle_key, run, run_end) for run, run_end in groups]
        if groups[0][0][0] is manifest:  # it leads the archive, as the `assets` CLI writes it
            head = next(reads[0])  # the first read starts here and goes on from asset.json
            raw_json = b"".join(head.chunks)
        else:
            raw_json = _read_member(objects, bundle_key, manifest, directory_start)
    except BadArchive as exc:
        raise BundleRejected(str(exc)) from exc
    with _closing_all(reads):
        return _register(upload_id, bundle_key, stores, limits, record, raw_json, files, reads)


@contextmanager
def _closing_all(reads: list[Generator[MemberData]]) -> Iterator[None]:
    """Close every read when ingest ends: one that was opened and not finished (a rejected
    asset.json, a failure elsewhere) releases its connection."""
    try:
        yield
    finally:
        for read in reads:
            read.close()


def _register(  # noqa: C901
    upload_id: str,
    bundle_key: str,
    stores: Stores,
    limits: Limits,
    record: dict[str, Any],
    raw_json: bytes,
    files: dict[str, Member],
    reads: list[Generator[MemberData]],
) -> str:
    objects = stores.objects
    document = parse_asset_json(raw_json)
    asset_id = document.get("asset_id")
    if not isinstance(asset_id, str) or not is_asset_id(asset_id):
        validate_document(document)  # names the problem with asset_id
        raise BundleRejected("asset.json: asset_id is invalid")
    prefix = f"{ASSETS_PREFIX}{asset_id}/{upload_id}/"
    plan = plan_files(document, files, lambda path: prefix + path, objects.url_of)
    check_keys(plan, limits.max_key_bytes)
    validate_document(document)
    record["asset_id"] = asset_id
    # Said as soon as known: whoever settles this upload later (the dead-letter consumer)
    # finds the folder this run writes, even if the run dies without another word.
    stores.status.put(upload_id, {**record, "status": "processing"})
    existing = stores.documents.get(asset_id)
    if existing is not None:
        if not registered_by(existing, prefix):
            raise BundleRejected(f"an asset with asset_id '{asset_id}' already exists")
        if files_stored(existing, objects):
            return asset_id  # an earlier run registered it and stopped before saying so
        # Registered by this upload, but files are missing: start again from the bundle.
        stores.documents.delete(asset_id)
        objects.delete_prefix(prefix)
    writer = _Writer(objects, bundle_key, limits)
    try:
        _store_members(plan, reads, writer)
        writer.flush()
        assets.create(validate_document(document), store=stores.documents)
    except BadArchive as exc:
        _clean_up(writer, objects, prefix)
        raise BundleRejected(str(exc)) from exc
    except AlreadyExists as exc:
        if _inserted_by_this_run(stores.documents, asset_id, prefix):
            return asset_id  # an insert the driver retried had been applied
        _clean_up(writer, objects, prefix)
        raise BundleRejected(f"an asset with asset_id '{asset_id}' already exists") from exc
    except OutOfTime as exc:
        _clean_up(writer, objects, prefix)
        raise BundleRejected(str(exc)) from exc
    except ObjectRefused as exc:
        _clean_up(writer, objects, prefix)
        paths = {key: path for path, key in plan.keys.items()}
        if exc.key in paths:
            raise BundleRejected(
                f"the object store refused member '{paths[exc.key]}': {exc.reason}"
            ) from exc
        raise BundleRejected(f"the object store refused the bundle: {exc.reason}") from exc
    except Exception:
        # The insert may have been applied although the driver reported an error: cleaning
        # up then would leave a registered asset without its files. Look before cleaning; if
        # even looking fails, leave everything for the redelivery to find.
        if _inserted_by_this_run(stores.documents, asset_id, prefix):
            return asset_id
        _clean_up(writer, objects, prefix)
        raise
    except BaseException:
        _clean_up(writer, objects, prefix)
        raise
    finally:
        writer.close()
    return asset_id


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


def read_groups(members: list[Member], end: int, streams: int) -> list[tuple[list[Member], int]]:
    """Split the members, in archive order, into at most ``streams`` runs of about equal
    stored size, each read by one sequential ranged GET that ends where the next run starts
    (the last at the central directory): a large member gets a read of its own while the
    small ones after it are read beside it. A member is never split. Members whose bytes
    overlap are refused here, before anything is read."""
    ordered = sorted(members, key=lambda m: m.offset)
    for member, following in pairwise(ordered):
        if following.offset < member.offset + LOCAL_HEADER.size + member.compressed_size:
            raise BadArchive(f"members '{member.name}' and '{following.name}' overlap (corrupt)")
    total = sum(m.compressed_size for m in ordered)
    target = total / max(1, streams)
    runs: list[list[Member]] = []
    size = 0.0
    for member in ordered:
        if (runs and size + member.compressed_size <= target) or len(runs) == streams:
            runs[-1].append(member)
            size += member.compressed_size
        else:
            runs.append([member])
            size = member.compressed_size
    ends = [run[0].offset for run in runs[1:]] + [end]
    return list(zip(runs, ends, strict=True))


def _store_members(plan: FilePlan, reads: Sequence[Iterator[MemberData]], writer: _Writer) -> None:
    """Store the planned members from the reads, side by side. The first failure stops the
    other reads at their next member and is raised."""
    stop = Event()

    def store_run(read: Iterator[MemberData]) -> None:
        try:
            for item in read:
                if stop.is_set():
                    return
                path = item.member.name
                if path not in plan.keys:
                    continue  # asset.json, when it was read on its own
                entries = plan.entries[path]
                check_time(writer.limits)
                sha256 = writer.write(
                    plan.keys[path],
                    item.member,
                    item.data_offset,
                    _on_time(item.chunks, writer.limits),
                    entries[0]["asset_file_mime_type"],
                )
                for entry in entries:
                    entry["asset_file_metadata"]["sha256"] = sha256
        except BaseException:
            stop.set()
            raise

    if len(reads) == 1:
        store_run(reads[0])
        return
    with ThreadPoolExecutor(max_workers=len(reads)) as readers:
        futures = [readers.submit(store_run, read) for read in reads]
        failures = [error for f in futures if (error := f.exception()) is not None]
    if failures:  # an archive problem or a refusal names the bundle's fault; others are retried
        bundle_faults = (BadArchive, ObjectRefused, OutOfTime)
        raise next((f for f in failures if isinstance(f, bundle_faults)), failures[0])


def registered_by(document: dict[str, Any], prefix: str) -> bool:
    """Whether this upload stored the asset's files (its keys carry the upload's id)."""
    urls = [f.get("asset_file_url", "") for f in document.get("files") or [] if isinstance(f, dict)]
    return any(isinstance(url, str) and f"/{prefix}" in url for url in urls)


def _clean_up(writer: _Writer, objects: ObjectStore, prefix: str) -> None:
    """Remove everything this run wrote: open multipart uploads and stored members."""
    writer.close()
    writer.abort_open()
    objects.delete_prefix(prefix)


def _read_member(objects: ObjectStore, key: str, member: Member, end: int) -> bytes:
    # Read only this member's extent: its local header (then a name and an extra
    # field of at most 64 KiB each) and its data, not the rest of the archive.
    end = min(end, member.offset + LOCAL_HEADER.size + 2 * 65_535 + member.compressed_size)
    for item in read_members(objects, key, [member], end):
        return b"".join(item.chunks)
    raise BundleRejected("asset.json could not be read")
