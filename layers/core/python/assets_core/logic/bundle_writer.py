"""Storing a bundle's members: the archive read in a few parallel runs, each member written
to the object store as one PUT, a multipart upload or server-side part copies, with the bytes
held in flight bounded."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from threading import Condition, Event
from typing import TYPE_CHECKING

from assets_core.errors import ObjectRefused
from assets_core.logic.bundles import BundleRejected, FilePlan, Limits, OutOfTime, check_time
from assets_core.logic.zipreader import (
    LOCAL_HEADER,
    STORED,
    BadArchive,
    Member,
    MemberData,
    read_members,
)
from assets_core.ports import ObjectStore, Part

if TYPE_CHECKING:
    from _hashlib import HASH


def _on_time(chunks: Iterator[bytes], limits: Limits) -> Iterator[bytes]:
    for chunk in chunks:
        check_time(limits)
        yield chunk


class MemberWriter:
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
        self.pending: list[Future[None]] = []

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

    def _submit[*Args, Result](
        self, size: int, function: Callable[[*Args], Result], *args: *Args
    ) -> Future[Result]:
        """Run a request on the pool once its ``size`` bytes fit in the budget (a request
        alone always fits) and a request slot is free."""
        with self.room:
            while self.requests >= self.MAX_REQUESTS or (
                self.in_flight and self.in_flight + size > self.budget
            ):
                self.room.wait()
            self.in_flight += size
            self.requests += 1

        def done(_: Future[Result]) -> None:
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
        digest: HASH,
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

    def _upload(self, key: str, upload: str, chunks: Iterator[bytes], digest: HASH) -> list[Part]:
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


def store_members(
    plan: FilePlan,
    reads: Sequence[Iterator[MemberData]],
    writer: MemberWriter,
    sha256: dict[str, str] | None = None,
) -> dict[str, str]:
    """Store the planned members from the reads, side by side; each one's SHA-256 (hex) by
    path, in ``sha256`` when given (which then holds, after a failure, the members written
    before it: their small PUTs may still be in flight, ``writer.flush`` waits for them).
    The first failure stops the other reads at their next member and is raised."""
    stop = Event()
    sha256 = {} if sha256 is None else sha256

    def store_run(read: Iterator[MemberData]) -> None:
        try:
            for item in read:
                if stop.is_set():
                    return
                path = item.member.name
                if path not in plan.keys:
                    continue  # asset.json, when it was read on its own
                check_time(writer.limits)
                sha256[path] = writer.write(
                    plan.keys[path],
                    item.member,
                    item.data_offset,
                    _on_time(item.chunks, writer.limits),
                    plan.content_type(path),
                )
        except BaseException:
            stop.set()
            raise

    if len(reads) == 1:
        store_run(reads[0])
        return sha256
    with ThreadPoolExecutor(max_workers=len(reads)) as readers:
        futures = [readers.submit(store_run, read) for read in reads]
        failures = [error for f in futures if (error := f.exception()) is not None]
    if failures:  # an archive problem or a refusal names the bundle's fault; others are retried
        bundle_faults = (BadArchive, ObjectRefused, OutOfTime)
        raise next((f for f in failures if isinstance(f, bundle_faults)), failures[0])
    return sha256


def read_member(objects: ObjectStore, key: str, member: Member, end: int) -> bytes:
    """One member's bytes, reading only its extent: its local header (then a name and an extra
    field of at most 64 KiB each) and its data, not the rest of the archive."""
    end = min(end, member.offset + LOCAL_HEADER.size + 2 * 65_535 + member.compressed_size)
    for item in read_members(objects, key, [member], end):
        return b"".join(item.chunks)
    raise BundleRejected("asset.json could not be read")
