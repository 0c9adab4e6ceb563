"""Large uploads in parts (the contract's upload sessions): each part's CRC32 declared and
signed into its URL, parts sent side by side with retries, the session saved locally so an
interrupted upload resumes from the parts the store already holds.

A part's bytes come from a file (read where they lie, by any worker) or from a stream (a
folder zipped as it is sent: cut into parts in order, a bounded number held at once)."""

from __future__ import annotations

import gc
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import httpx

MIB = 1024 * 1024
# Past this size the `assets` command sends an upload in parts (the service's default too).
MULTIPART_THRESHOLD = 100 * MIB
SIGN_BATCH = 200  # part URLs asked for at once (the service signs up to 1000)
ATTEMPTS = 5  # tries of one part before the upload gives up (it can be resumed)


def part_size_for(size: int) -> int:
    """16 MiB, or more (whole MiB) to keep within S3's 10,000 parts."""
    needed = -(-size // 10_000)
    return max(16 * MIB, -(-needed // MIB) * MIB)


class PartRefused(Exception):
    """The object store refused a part for its bytes: they are not what was declared."""


@dataclass(frozen=True)
class Part:
    """A part to send: its number, its CRC32 (hex; empty: computed once it is read), and how
    to get its bytes."""

    number: int
    checksum: str
    load: Callable[[], bytes]


def crc_hex(data: bytes | memoryview) -> str:
    return f"{zlib.crc32(data):08x}"


# -- where the parts come from ---------------------------------------------------------------


def file_checksums(path: Path, part_size: int) -> tuple[list[str], str]:
    """Each part's CRC32 and the whole file's, in one pass."""
    parts: list[str] = []
    whole = 0
    with path.open("rb") as handle:
        while chunk := handle.read(part_size):
            parts.append(crc_hex(chunk))
            whole = zlib.crc32(chunk, whole)
    return parts, f"{whole:08x}"


def file_parts(
    path: Path, part_size: int, checksums: list[str], wanted: set[int] | None = None
) -> Iterator[Part]:
    """The wanted parts of a file (all by default); each read by whoever sends it, when it
    sends it."""

    def loader(number: int) -> Callable[[], bytes]:
        def load() -> bytes:
            with path.open("rb") as handle:
                handle.seek((number - 1) * part_size)
                return handle.read(part_size)

        return load

    for number, checksum in enumerate(checksums, start=1):
        if wanted is None or number in wanted:
            yield Part(number, checksum, loader(number))


def stream_parts(
    chunks: Iterable[bytes], part_size: int, received: dict[int, str]
) -> Iterator[Part]:
    """A stream cut into parts in order. A part the store already holds (``received``, by
    number: its checksum) is checked against the stream and skipped: a stream that differs
    from the one the session started with cannot be resumed."""
    buffer = bytearray()
    number = 0

    def cut(data: bytes) -> Part | None:
        nonlocal number
        number += 1
        checksum = crc_hex(data)
        if number in received:
            if received[number] != checksum:
                raise PartRefused(
                    f"part {number} differs from the part the store holds: the folder changed "
                    "since the upload started; start a new upload"
                )
            return None
        return Part(number, checksum, lambda: data)

    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_size:
            with memoryview(buffer) as view:  # one copy of the part, not two
                data = view[:part_size].tobytes()
            del buffer[:part_size]
            part = cut(data)
            if part is not None:
                yield part
    if buffer or number == 0:
        part = cut(bytes(buffer))
        if part is not None:
            yield part


# -- the session, saved so it can be resumed -------------------------------------------------


def saved_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "assets" / "uploads"


def save_session(upload_id: str, details: dict[str, Any]) -> Path:
    """Keep what resuming needs, as the upload starts."""
    folder = saved_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{upload_id}.json"
    record = {"upload_id": upload_id, "saved_at": datetime.now(UTC).isoformat(), **details}
    path.write_text(json.dumps(record))
    return path


def saved_session(upload_id: str) -> dict[str, Any] | None:
    path = saved_dir() / f"{Path(upload_id).name}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record


def forget_session(upload_id: str) -> None:
    (saved_dir() / f"{Path(upload_id).name}.json").unlink(missing_ok=True)


def unfinished_for(path: Path) -> list[str]:
    """The saved sessions of uploads of ``path`` that were not completed."""
    found = []
    for item in sorted(saved_dir().glob("*.json")) if saved_dir().is_dir() else []:
        with_path = saved_session(item.stem)
        if with_path and with_path.get("path") == str(path.resolve()):
            found.append(item.stem)
    return found


# -- sending ---------------------------------------------------------------------------------


class PartSender:
    """Sends parts side by side: URLs signed in batches as the parts come, each part tried
    up to ``ATTEMPTS`` times (with a fresh URL after a failure), the bytes held at once
    bounded by ``parallel`` parts (and, for a stream, the batch cut and waiting for a slot)."""

    def __init__(
        self,
        sign: Callable[[list[Part]], list[dict[str, Any]]],
        storage: httpx.Client,
        parallel: int,
        progress: Callable[[int], None],
    ) -> None:
        self.sign = sign
        self.storage = storage
        self.parallel = max(1, parallel)
        self.progress = progress

    def send_all(self, parts: Iterable[Part], batch: int) -> dict[int, dict[str, Any]]:
        """Send every part; what completing names for each, by number."""
        sent: dict[int, dict[str, Any]] = {}
        iterator = iter(parts)
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            running: set[Future[dict[str, Any]]] = set()
            while group := list(islice(iterator, batch)):
                known = [part for part in group if part.checksum]
                signed = self.sign(known) if known else []
                urls = dict(zip((p.number for p in known), signed, strict=True))
                for part in group:
                    while len(running) >= self.parallel:
                        running = self._settle(running, sent)
                    running.add(pool.submit(self._send, part, urls.get(part.number)))
            while running:
                running = self._settle(running, sent)
        return sent

    def _settle(
        self, running: set[Future[dict[str, Any]]], sent: dict[int, dict[str, Any]]
    ) -> set[Future[dict[str, Any]]]:
        done, rest = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            named = future.result()  # a part that failed for good stops the upload
            sent[int(named["part_number"])] = named
        # A sent part's bytes stay reachable from reference cycles in the HTTP stack until
        # the collector runs: collected here, the parts held are those in flight.
        gc.collect()
        return rest

    def _send(self, part: Part, signed: dict[str, Any] | None) -> dict[str, Any]:
        """Send one part (its URL signed here when its checksum is known only once it is
        read); what completing names for it."""
        data = part.load()
        if not part.checksum:
            part = Part(part.number, crc_hex(data), part.load)
        if signed is None:
            [signed] = self.sign([part])
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self.storage.put(signed["url"], content=data, headers=signed["headers"])
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code < 300:
                self.progress(len(data))
                return {
                    "part_number": part.number,
                    "etag": answer.headers["etag"],
                    "checksum": part.checksum,
                }
            if answer is not None and answer.status_code == 400 and "BadDigest" in answer.text:
                raise PartRefused(
                    f"the object store refused part {part.number}: its bytes are not the ones "
                    "whose checksum was declared (did the file change while it was sent?)"
                )
            if attempt == ATTEMPTS:
                reason = "no answer" if answer is None else f"HTTP {answer.status_code}"
                raise ConnectionError(
                    f"part {part.number} could not be sent ({reason}, {ATTEMPTS} tries); "
                    "resume the upload"
                )
            time.sleep(min(8.0, 0.5 * 2**attempt))
            [signed] = self.sign([part])  # its URL may have expired
        raise AssertionError("unreachable")
