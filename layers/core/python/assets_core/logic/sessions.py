"""Upload sessions, as rules: a bundle or an Assets DB file sent in parts, each part checked
by the object store against the checksum its URL was signed with, resumable from the parts
the store lists, assembled only when every part is there and matches.

A session lives in the upload status store under its upload id, beside the upload's status:
the store's own upload id and the object's key never leave the server. Its status goes
``uploading`` -> ``completing`` (the store assembles the object, whose arrival starts the
usual ingest or Assets DB completion, which write the statuses after) or ``aborted`` /
``expired``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from assets_core.errors import AppError, Conflict, InvalidInput, NotFound, ObjectRefused
from assets_core.identity import Caller
from assets_core.keys import is_upload_id
from assets_core.models.sessions import (
    MAX_PARTS,
    MAX_SESSION_BYTES,
    MIB,
    CompletedPart,
    PartChecksum,
    SessionOptions,
)
from assets_core.ports import ObjectStore, StatusStore, StoredPart

UPLOADING = "uploading"
COMPLETING = "completing"
ABORTED = "aborted"
EXPIRED = "expired"


@dataclass(frozen=True)
class SessionLimits:
    threshold_bytes: int  # past this size, an upload is a session unless told otherwise
    max_bytes: int  # the largest session
    part_bytes: int  # the default part size (grown to keep within 10,000 parts)
    ttl_seconds: int  # a session not completed by then is aborted
    url_expiry_seconds: int  # a signed part URL's lifetime (never past the session's end)


@dataclass(frozen=True)
class Place:
    """Where a service serves its sessions: ``{base}/{upload_id}``, and its name in records
    (a session is found only through the service that opened it)."""

    service: str
    base: str
    # The status a completed session is given, when nothing after it writes one (the Assets
    # DB); None: the upload's ingest writes its statuses from the object's arrival on.
    completed: str | None = None

    def url(self, upload_id: str, tail: str = "") -> str:
        return f"{self.base}/{upload_id}{tail}"


def wants_session(size: int | None, options: SessionOptions, limits: SessionLimits) -> bool:
    """Whether an upload request gets a session: when asked, else past the threshold."""
    if options.multipart is not None:
        return options.multipart
    return size is not None and size > limits.threshold_bytes


def plan_parts(size: int | None, part_size: int | None, limits: SessionLimits) -> tuple[int, int]:
    """The part size and count of a session of ``size`` bytes; the limits as a 400."""
    if size is None:
        raise InvalidInput(
            'An upload session needs the size: send "size" (bytes).', code="SIZE_REQUIRED"
        )
    largest = min(limits.max_bytes, MAX_SESSION_BYTES)
    if size > largest:
        raise InvalidInput(
            f"The upload is {size} bytes; a session takes at most {largest} bytes.",
            code="SESSION_LIMIT",
        )
    if part_size is None:
        needed = -(-size // MAX_PARTS)
        part_size = max(limits.part_bytes, -(-needed // MIB) * MIB)
    count = max(1, -(-size // part_size))
    if count > MAX_PARTS:
        raise InvalidInput(
            f"{size} bytes in parts of {part_size} are {count} parts; a session has at most "
            f"{MAX_PARTS} (send a larger part_size, or none).",
            code="SESSION_LIMIT",
        )
    return part_size, count


def check_request(
    size: int | None, options: SessionOptions, limits: SessionLimits, sha256: str | None = None
) -> tuple[int, int]:
    """Refuse a session request that cannot be opened, before anything is written or
    started: its part size and count."""
    if sha256 is not None:
        raise InvalidInput(
            "A session checks each part's checksum and the whole object's crc32, not a "
            'sha256: declare "crc32", or send "multipart": false for one upload (of at most '
            "5 GiB) checked by its SHA-256."
        )
    if options.crc32 is not None and options.checksum_algorithm != "crc32":
        raise InvalidInput(
            "A whole-object crc32 is checked by crc32 sessions only; drop it, or use "
            '"checksum_algorithm": "crc32".'
        )
    part_size, count = plan_parts(size, options.part_size, limits)
    check_declared(options.parts, count, options.checksum_algorithm)
    return part_size, count


def check_single(options: SessionOptions) -> None:
    """Refuse the session's own fields on an upload sent in one request."""
    named = options.model_fields_set & {"crc32", "part_size", "parts", "checksum_algorithm"}
    if named:
        raise InvalidInput(
            f'{", ".join(sorted(named))} apply to uploads in parts: send "multipart": true '
            "(or a size past the threshold), or leave them out.",
            code="NOT_A_SESSION",
        )


def check_declared(declared: Sequence[PartChecksum], count: int, algorithm: str) -> None:
    """Each declared part within the session, named once, with a checksum of its length."""
    width = 8 if algorithm == "crc32" else 64
    numbers = [part.part_number for part in declared]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("A part number is named twice.", code="DUPLICATE_PART")
    for part in declared:
        if part.part_number > count:
            raise InvalidInput(
                f"Part {part.part_number} is past the session's last part ({count}).",
                code="PART_OUT_OF_RANGE",
            )
        if len(part.checksum) != width:
            raise InvalidInput(
                f"Part {part.part_number}: a {algorithm} checksum is {width} hex digits.",
                code="BAD_CHECKSUM",
            )


def open_session(
    upload_id: str,
    key: str,
    size: int | None,
    options: SessionOptions,
    *,
    place: Place,
    content_type: str,
    limits: SessionLimits,
    objects: ObjectStore,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start the store's multipart upload for ``key``: the session's part of the status
    record, and the client's view of it (with the parts it declared signed)."""
    part_size, count = check_request(size, options, limits)
    assert size is not None
    now = datetime.now(UTC)
    session = {
        "service": place.service,
        "key": key,
        "store_upload_id": objects.start_session(key, content_type, options.checksum_algorithm),
        "size": size,
        "part_size": part_size,
        "part_count": count,
        "checksum_algorithm": options.checksum_algorithm,
        "expires_at": (now + timedelta(seconds=limits.ttl_seconds)).isoformat(timespec="seconds"),
    }
    if options.crc32 is not None:
        session["crc32"] = options.crc32
    view = _view(upload_id, UPLOADING, session, place)
    view["parts"] = _sign(session, options.parts, limits, objects, now) if options.parts else []
    return session, view


def _view(upload_id: str, status: str, session: Mapping[str, Any], place: Place) -> dict[str, Any]:
    view = {
        "method": "multipart",
        "upload_id": upload_id,
        "status": status,
        **{
            name: session[name]
            for name in ("size", "part_size", "part_count", "checksum_algorithm", "expires_at")
        },
        "session_url": place.url(upload_id),
        "parts_url": place.url(upload_id, "/parts"),
        "complete_url": place.url(upload_id, "/complete"),
    }
    if session.get("crc32"):
        view["crc32"] = session["crc32"]
    return view


def part_bytes(session: Mapping[str, Any], number: int) -> int:
    """The size part ``number`` must have: ``part_size``, less for the last."""
    size, part_size = int(session["size"]), int(session["part_size"])
    return min(part_size, size - (number - 1) * part_size)


def _sign(
    session: Mapping[str, Any],
    declared: Sequence[PartChecksum],
    limits: SessionLimits,
    objects: ObjectStore,
    now: datetime,
) -> list[dict[str, Any]]:
    algorithm = str(session["checksum_algorithm"])
    check_declared(declared, int(session["part_count"]), algorithm)
    ends = datetime.fromisoformat(str(session["expires_at"]))
    seconds = int(min(limits.url_expiry_seconds, (ends - now).total_seconds()))
    expires_at = (now + timedelta(seconds=seconds)).isoformat(timespec="seconds")
    signed = []
    for part in declared:
        put = objects.presigned_part(
            str(session["key"]),
            str(session["store_upload_id"]),
            part.part_number,
            size=part_bytes(session, part.part_number),
            algorithm=algorithm,
            checksum=part.checksum,
            expires_in=max(1, seconds),
        )
        signed.append(
            {
                "part_number": part.part_number,
                "url": put.url,
                "headers": put.headers,
                "expires_at": expires_at,
            }
        )
    return signed


# -- a session, found again ------------------------------------------------------------------


@dataclass
class Found:
    """A session as its status record holds it."""

    upload_id: str
    record: dict[str, Any]

    @property
    def session(self) -> dict[str, Any]:
        session: dict[str, Any] = self.record["session"]
        return session

    @property
    def key(self) -> str:
        return str(self.session["key"])

    @property
    def status(self) -> str:
        return str(self.record.get("status", UPLOADING))

    def past_its_time(self, now: datetime) -> bool:
        return now > datetime.fromisoformat(str(self.session["expires_at"]))


def find(upload_id: str, *, place: Place, status: StatusStore, caller: Caller) -> Found:
    """The session of ``upload_id`` opened through ``place``, when the caller may see it (its
    uploader, or an admin); for anyone else, and for an upload sent in one request, 404."""
    record = status.get(upload_id) if is_upload_id(upload_id) else None
    session = (record or {}).get("session")
    if (
        record is None
        or not isinstance(session, dict)
        or session.get("service") != place.service
        or not (caller.is_admin or caller.owns(record.get("uploaded_by")))
    ):
        raise NotFound(f"No upload session has upload_id '{upload_id}'.", code="UPLOAD_NOT_FOUND")
    return Found(upload_id, record)


# Completing, aborting and expiring a session hold its lock (beside the upload's processing
# lock, which ingest takes): each reads the record again under it, so none writes over what
# another decided. A call that finds it held answers 409, to be tried again.
LOCK_SECONDS = 120


@contextmanager
def _locked(found: Found, status: StatusStore) -> Iterator[Found]:
    token = status.lock(f"session:{found.upload_id}", LOCK_SECONDS)
    if token is None:
        raise Conflict(
            f"The upload session '{found.upload_id}' is being completed or aborted; try again.",
            code="SESSION_BUSY",
        )
    try:
        fresh = status.get(found.upload_id)
        found.record = fresh if fresh is not None else found.record
        yield found
    finally:
        status.unlock(f"session:{found.upload_id}", token)


def _settle(found: Found, objects: ObjectStore, status: StatusStore, *, probe: bool = True) -> None:
    """Bring the record's status up to what the store says (under the session's lock):
    ``completing`` without the object is an assembly that did not happen (a call stopped
    before it, or its store failed), so the session takes parts again; one that takes parts
    past its time, or whose store upload is gone without the object (the bucket's rule
    aborted it), is expired and aborted; one whose store upload was assembled is
    ``completing``. ``probe``: ask the store whether its upload is still open (a caller that
    lists the parts next learns it from that)."""
    if found.status not in (UPLOADING, COMPLETING):
        return
    assembled = objects.size(found.key) is not None
    if found.status == COMPLETING and assembled:
        return
    if assembled:
        _put(found, COMPLETING, status)
        return
    if found.status == COMPLETING:
        found.record = {**found.record, "status": UPLOADING}
    if found.past_its_time(datetime.now(UTC)) or (probe and not _store_upload_open(found, objects)):
        _close(found, EXPIRED, objects, status)
    elif found.status != UPLOADING:
        _put(found, UPLOADING, status)


def _store_upload_open(found: Found, objects: ObjectStore) -> bool:
    try:
        _list(found, objects)
    except NotFound:
        return False
    return True


def _list(found: Found, objects: ObjectStore) -> list[StoredPart]:
    return objects.list_parts(
        found.key, str(found.session["store_upload_id"]), str(found.session["checksum_algorithm"])
    )


def _put(found: Found, state: str, status: StatusStore) -> None:
    found.record = {**found.record, "status": state}
    status.put(found.upload_id, found.record)


def _close(found: Found, state: str, objects: ObjectStore, status: StatusStore) -> None:
    """End an unfinished session: the store's parts are removed, the status says why."""
    objects.abort_multipart(found.key, str(found.session["store_upload_id"]))
    _put(found, state, status)


def _closed(found: Found) -> Conflict:
    if found.status == ABORTED:
        return Conflict(
            f"The upload session '{found.upload_id}' was aborted; start a new upload.",
            code="SESSION_ABORTED",
        )
    if found.status == EXPIRED:
        return Conflict(
            f"The upload session '{found.upload_id}' expired before it was completed; start a "
            "new upload.",
            code="SESSION_EXPIRED",
        )
    return Conflict(
        f"The upload session '{found.upload_id}' is completed ({found.status}); it takes no "
        "more parts.",
        code="SESSION_COMPLETED",
    )


def _needs_settling(found: Found, objects: ObjectStore) -> bool:
    """Whether the record may say less than the store (checked without the lock)."""
    if found.status == COMPLETING:
        return objects.size(found.key) is None
    return found.status == UPLOADING and found.past_its_time(datetime.now(UTC))


def _settled(found: Found, objects: ObjectStore, status: StatusStore) -> Found:
    if _needs_settling(found, objects):
        with _locked(found, status):
            _settle(found, objects, status)
    return found


def describe(
    found: Found, *, place: Place, objects: ObjectStore, status: StatusStore
) -> dict[str, Any]:
    """The session and, while it takes parts, those the store holds and those missing: what
    a client resumes from."""
    found = _settled(found, objects, status)
    view = _view(found.upload_id, found.status, found.session, place)
    if found.status != UPLOADING:
        return view
    try:
        stored = _list(found, objects)
    except NotFound:  # assembled, or aborted by the bucket's rule, since the record was read
        with _locked(found, status):
            _settle(found, objects, status)
        return _view(found.upload_id, found.status, found.session, place)
    view["received"] = [_received(part) for part in stored]
    held = {part.number for part in stored}
    count = int(found.session["part_count"])
    view["missing"] = [n for n in range(1, count + 1) if n not in held]
    return view


def _received(part: StoredPart) -> dict[str, Any]:
    return {
        "part_number": part.number,
        "etag": part.etag,
        "size": part.size,
        "checksum": part.checksum,
    }


def sign_parts(
    found: Found,
    declared: Sequence[PartChecksum],
    *,
    limits: SessionLimits,
    objects: ObjectStore,
    status: StatusStore,
) -> dict[str, Any]:
    """Signed URLs for the parts the client declared (each bound to its size and checksum)."""
    found = _settled(found, objects, status)
    if found.status != UPLOADING:
        raise _closed(found)
    signed = _sign(found.session, declared, limits, objects, datetime.now(UTC))
    return {"upload_id": found.upload_id, "parts": signed}


def complete(
    found: Found,
    named: Sequence[CompletedPart],
    *,
    place: Place,
    objects: ObjectStore,
    status: StatusStore,
) -> dict[str, Any]:
    """Assemble the object once every part is named, received and matches what the client
    named; the object's arrival starts what follows (ingest). Completing again answers the
    same; a part missing or different is a 400 naming it, and the session stays open."""
    with _locked(found, status):
        _settle(found, objects, status, probe=False)
        if found.status in (ABORTED, EXPIRED):
            raise _closed(found)
        if found.status != UPLOADING:
            return _view(found.upload_id, found.status, found.session, place)
        try:
            stored = _checked(found, named, _list(found, objects))
        except NotFound:
            _settle(found, objects, status)
            if found.status in (ABORTED, EXPIRED):
                raise _closed(found) from None
            return _view(found.upload_id, found.status, found.session, place)
        _put(found, COMPLETING, status)
        _assemble(found, stored, objects, status)
        if place.completed is not None:
            _put(found, place.completed, status)
        return _view(found.upload_id, found.status, found.session, place)


def _assemble(
    found: Found, stored: list[StoredPart], objects: ObjectStore, status: StatusStore
) -> None:
    """Have the store assemble the parts; on a refusal or a failure that did not assemble
    them, the session takes parts again."""
    session = found.session
    try:
        objects.complete_session(
            found.key,
            str(session["store_upload_id"]),
            stored,
            str(session["checksum_algorithm"]),
            session.get("crc32"),
        )
    except ObjectRefused as exc:
        _put(found, UPLOADING, status)
        raise InvalidInput(
            "The object store refused to assemble the parts: "
            f"{exc.reason}. The declared crc32 is not the parts' own: abort the session "
            "(DELETE) and upload again.",
            code="CHECKSUM_MISMATCH",
        ) from exc
    except AppError:
        if objects.size(found.key) is not None:  # assembled, the answer lost on the way
            return
        _put(found, UPLOADING, status)
        raise


def _checked(
    found: Found, named: Sequence[CompletedPart], stored: list[StoredPart]
) -> list[StoredPart]:
    """The stored parts, in order, once each one is named by the client with its ETag and
    checksum, and has its size; else a 400 naming the first part that is not."""
    count = int(found.session["part_count"])
    by_number = {part.part_number: part for part in named}
    held = {part.number: part for part in stored}
    if len(by_number) != len(named):
        raise InvalidInput("A part number is named twice.", code="DUPLICATE_PART")
    extra = sorted(set(by_number) - set(range(1, count + 1)))
    if extra:
        raise InvalidInput(
            f"Part {extra[0]} is past the session's last part ({count}).",
            code="PART_OUT_OF_RANGE",
        )
    ordered = []
    for number in range(1, count + 1):
        ordered.append(_matching(found, number, by_number.get(number), held.get(number)))
    return ordered


def _matching(
    found: Found, number: int, named: CompletedPart | None, held: StoredPart | None
) -> StoredPart:
    if held is None:
        raise InvalidInput(
            f"Part {number} has not been received; send it, then complete again.",
            code="PART_MISSING",
        )
    if named is None:
        raise InvalidInput(
            f"Part {number} is not named; completing names every part.", code="PART_MISSING"
        )
    if named.etag.strip('"') != held.etag.strip('"') or named.checksum != held.checksum:
        raise InvalidInput(
            f"Part {number}: its etag or checksum is not the stored part's; send the values "
            "the store answered (or list the received parts).",
            code="PART_MISMATCH",
        )
    if held.size != part_bytes(found.session, number):
        raise InvalidInput(
            f"Part {number} is {held.size} bytes, not {part_bytes(found.session, number)}.",
            code="PART_MISMATCH",
        )
    return held


def abort(
    found: Found, *, place: Place, objects: ObjectStore, status: StatusStore
) -> dict[str, Any]:
    """End the session and remove its parts; aborting again answers the same. A session
    completed (whatever its upload's status since) cannot be aborted."""
    with _locked(found, status):
        _settle(found, objects, status, probe=False)
        if found.status == UPLOADING:
            _close(found, ABORTED, objects, status)
        elif found.status not in (ABORTED, EXPIRED):
            raise Conflict(
                f"The upload session '{found.upload_id}' is {found.status}; it cannot be aborted.",
                code="SESSION_COMPLETED",
            )
        return _view(found.upload_id, found.status, found.session, place)
