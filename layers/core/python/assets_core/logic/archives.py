"""Large downloads: the asset's ZIP assembled server-side in S3, then fetched by a presigned
GET, because a Lambda stream stops at 200 MB.

The archive is a multipart upload laid out from the download's manifest (``ziplayout``):
headers, asset.json and the central directory are uploaded from memory, each member's bytes
are copied from its stored object (``UploadPartCopy``), and a member's first few MiB are read
and uploaded with the header before it, so every part but the last is at least
``MIN_PART_BYTES`` (S3's 5 MiB floor). Almost no bytes move, and the result is
byte-identical to the streamed ZIP of the same manifest. Every member's CRC-32 is checked on
the way: the CRC-32 of the bytes read here combined with the CRC-32s S3 reports of the bytes
it copied must equal the one the manifest recorded.

State lives beside the archive, in the bucket (the builder runs outside the VPC and reads
nothing else): ``<revision>.zip`` once built, ``<revision>.build.json`` (the manifest; its
creation queues the build through S3's event notification) while building, and
``<revision>.failed`` (the reason) after a failure, until the next request retries.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from assets_core.errors import AppError
from assets_core.keys import ARCHIVE_REQUEST_SUFFIX, archive_key
from assets_core.logic.downloads import MANIFEST_MAX_BYTES, Manifest, ManifestInvalid
from assets_core.logic.ziplayout import Segment, Span, crc32_combine, layout
from assets_core.ports import ObjectStore, Part

log = logging.getLogger(__name__)

MIN_PART_BYTES = 8 * 1024 * 1024  # S3 refuses parts under 5 MiB but the last
MAX_COPY_BYTES = 1024 * 1024 * 1024  # one UploadPartCopy (S3 allows 5 GiB)
MAX_PARTS = 10_000
THREADS = 8
# A build request older than this was not finished by its builder (timeout: 15 minutes).
STALE_AFTER_SECONDS = 20 * 60
FAILED_SUFFIX = ".failed"

READY = "ready"
BUILDING = "building"


class BuildFailed(Exception):
    """The archive cannot be built from this manifest; the reason is shown to clients."""


@dataclass(frozen=True)
class ArchiveState:
    """``ready`` (with the archive's size), ``building``, ``failed: <reason>`` or ``absent``."""

    status: str
    size: int | None = None

    @property
    def failed(self) -> bool:
        return self.status.startswith("failed")


def state(
    objects: ObjectStore, asset_id: str, revision: int | str, now: datetime | None = None
) -> ArchiveState:
    """Where the archive of this revision (or version label, ``Manifest.label``) stands."""
    built = objects.head(archive_key(asset_id, revision))
    if built is not None:
        return ArchiveState(READY, built.size)
    failure = objects.get(archive_key(asset_id, revision, FAILED_SUFFIX), 4096)
    if failure is not None:
        return ArchiveState(f"failed: {failure.decode(errors='replace')}")
    requested = objects.head(archive_key(asset_id, revision, ARCHIVE_REQUEST_SUFFIX))
    if requested is None:
        return ArchiveState("absent")
    age = (now or datetime.now(UTC)) - requested.last_modified
    if age.total_seconds() > STALE_AFTER_SECONDS:
        return ArchiveState("failed: the build did not finish; request the download again")
    return ArchiveState(BUILDING)


def request(objects: ObjectStore, manifest: Manifest, now: datetime | None = None) -> ArchiveState:
    """The archive's state, queueing its build when there is none (or the last one failed).
    Of requests racing to queue it, one writes the build request (a conditional write) and
    the others find it building."""
    current = state(objects, manifest.asset_id, manifest.label, now)
    if current.status == READY or current.status == BUILDING:
        return current
    request_key = archive_key(manifest.asset_id, manifest.label, ARCHIVE_REQUEST_SUFFIX)
    if current.failed:  # a retry: clear what the failure left
        objects.delete([request_key, archive_key(manifest.asset_id, manifest.label, FAILED_SUFFIX)])
    objects.put_new(request_key, manifest.to_json(), "application/json")
    return ArchiveState(BUILDING)


# -- planning the parts -------------------------------------------------------------------


@dataclass
class UploadPart:
    """Bytes uploaded from here: segments in memory and ranges read from stored objects."""

    pieces: list[Segment] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.size for p in self.pieces)


@dataclass(frozen=True)
class CopyPart:
    """A range of a stored object, copied by the store."""

    span: Span


PartPlan = UploadPart | CopyPart


def plan_parts(
    segments: list[Segment],
    *,
    min_part: int = MIN_PART_BYTES,
    max_copy: int = MAX_COPY_BYTES,
) -> list[PartPlan]:
    """The parts of the archive, in order: each at least ``min_part`` but the last."""
    parts: list[PartPlan] = []
    buffer = UploadPart()
    buffered = 0

    def add(piece: Segment, size: int) -> None:
        nonlocal buffer, buffered
        buffer.pieces.append(piece)
        buffered += size
        if buffered >= min_part:
            parts.append(buffer)
            buffer, buffered = UploadPart(), 0

    for segment in segments:
        if isinstance(segment, bytes):
            add(segment, len(segment))
            continue
        lead = min_part - buffered  # > 0: a full buffer was sent already
        rest = segment.size - lead
        if rest < min_part:  # too small to copy: read it all
            add(segment, segment.size)
            continue
        add(Span(segment.key, segment.start, segment.start + lead, segment.member), lead)
        count = math.ceil(rest / max_copy)
        bounds = [segment.start + lead + rest * n // count for n in range(count + 1)]
        for start, end in pairwise(bounds):
            parts.append(CopyPart(Span(segment.key, start, end, segment.member)))
    if buffer.pieces or not parts:
        parts.append(buffer)
    return parts


# -- building -----------------------------------------------------------------------------


@dataclass
class _Checked:
    """The CRC-32s of one member's pieces, by their start, as the build learns them."""

    pieces: dict[int, tuple[int, int]] = field(default_factory=dict)  # start -> (crc, length)

    def crc(self) -> int:
        total = 0
        for start in sorted(self.pieces):
            crc, length = self.pieces[start]
            total = crc32_combine(total, crc, length)
        return total


def build(objects: ObjectStore, manifest: Manifest, *, threads: int = THREADS) -> int:
    """Assemble the manifest's ZIP at its archive key; its size. ``BuildFailed`` when a
    stored object is missing or its bytes do not match the CRC-32 recorded for them (nothing
    is left behind)."""
    key = archive_key(manifest.asset_id, manifest.label)
    parts = plan_parts(layout(manifest.entries, manifest.modified))
    if len(parts) > MAX_PARTS:
        raise BuildFailed(
            f"the archive would need {len(parts)} parts; S3 allows {MAX_PARTS} "
            "(download the files one by one instead)"
        )
    checked = {entry.path: _Checked() for entry in manifest.files}
    upload = objects.start_multipart(key, "application/zip")
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures: list[Future[Part]] = [
                pool.submit(_send, objects, key, upload, number, part, checked)
                for number, part in enumerate(parts, start=1)
            ]
            done = [future.result() for future in futures]
        _check_crcs(manifest, checked)
        objects.complete_multipart(key, upload, done)
    except BaseException:
        objects.abort_multipart(key, upload)
        raise
    return manifest.zip_size


def _send(
    objects: ObjectStore,
    key: str,
    upload: str,
    number: int,
    part: PartPlan,
    checked: dict[str, _Checked],
) -> Part:
    try:
        if isinstance(part, CopyPart):
            span = part.span
            copied = objects.copy_part_checked(key, upload, number, span.key, span.start, span.end)
            checked[span.member].pieces[span.start] = (copied.crc32, span.size)
            return copied
        body = bytearray()
        for piece in part.pieces:
            if isinstance(piece, bytes):
                body += piece
                continue
            data = objects.read_range(piece.key, piece.start, piece.end)
            if len(data) != piece.size:
                raise BuildFailed(f"'{piece.member}' is shorter than its recorded size")
            checked[piece.member].pieces[piece.start] = (zlib.crc32(data), piece.size)
            body += data
        return objects.upload_part(key, upload, number, bytes(body))
    except AppError as exc:
        member = part.span.member if isinstance(part, CopyPart) else _members(part)
        if exc.status == 404:
            raise BuildFailed(f"'{member}' is no longer stored") from exc
        if exc.status < 500:
            raise BuildFailed(f"'{member}' could not be read: {exc.message}") from exc
        raise


def _members(part: UploadPart) -> str:
    return ", ".join(p.member for p in part.pieces if isinstance(p, Span)) or "the archive"


def _check_crcs(manifest: Manifest, checked: dict[str, _Checked]) -> None:
    for entry in manifest.files:
        if entry.size and checked[entry.path].crc() != entry.crc32:
            raise BuildFailed(f"'{entry.path}' does not match its recorded CRC-32")


def run(objects: ObjectStore, request_key: str, *, build_with: Callable[..., int] = build) -> str:
    """Build the archive a build request names (the builder function's work): the state it
    leaves. A failure is recorded for clients and the request removed, so the next download
    request retries; an outage of the store is raised for the queue to redeliver."""
    data = objects.get(request_key, MANIFEST_MAX_BYTES)
    if data is None:
        return "gone"  # settled by another delivery
    try:
        manifest = Manifest.from_json(data)
    except ManifestInvalid as exc:
        log.error("Dropped the build request %s: it is not a manifest", request_key)
        objects.delete([request_key])
        return f"failed: {exc}"
    if archive_key(manifest.asset_id, manifest.label, ARCHIVE_REQUEST_SUFFIX) != request_key:
        objects.delete([request_key])
        return "failed: the request's key does not name its manifest"
    if objects.head(archive_key(manifest.asset_id, manifest.label)) is None:
        try:
            size = build_with(objects, manifest)
        except BuildFailed as exc:
            reason = str(exc)
            log.warning("The archive of %s failed: %s", request_key, reason)
            objects.put(
                archive_key(manifest.asset_id, manifest.label, FAILED_SUFFIX),
                reason.encode(),
                "text/plain; charset=utf-8",
            )
            objects.delete([request_key])
            return f"failed: {reason}"
        log.info("Built the archive of %s (%d bytes)", request_key, size)
    objects.delete([request_key])
    return READY
