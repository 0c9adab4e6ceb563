"""Spec 000's ZIP uploads and downloads, as rules: a direct or presigned upload is queued
with its status, the status is read back, a download is a signed link. The API parses the
request and calls these; logic never sees an event and imports no driver."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from assets_core.errors import InvalidInput, NotFound, PayloadTooLarge
from assets_core.identity import ANONYMOUS, Caller
from assets_core.keys import is_upload_id, upload_key
from assets_core.logic import sessions
from assets_core.models.sessions import SessionOptions
from assets_core.ports import ObjectStore, StatusStore
from assets_core.routes import REGISTRY

STATUS_PATH = f"{REGISTRY}/zip/status/{{upload_id}}"
SESSIONS = sessions.Place(service="registry", base=f"{REGISTRY}/uploads")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int  # a presigned upload
    direct_max_bytes: int  # a bundle sent in the request itself
    url_expiry_seconds: int


def _status_url(upload_id: str) -> str:
    return STATUS_PATH.format(upload_id=upload_id)


def _queue(
    status: StatusStore,
    upload_id: str,
    extra: dict[str, Any],
    correlation_id: str | None,
    uploader: Caller,
    state: str = "queued",
) -> None:
    """The upload's first status. The correlation id (the request's) travels with it, so
    that the ingest run's logs carry the id of the request that started the upload; so does
    the uploader, whom ingest (which has no caller) acts for: the bundle's asset is theirs."""
    record = {"status": state, "created_at": datetime.now(UTC).isoformat(), **extra}
    if correlation_id:
        record["correlation_id"] = correlation_id
    record["uploaded_by"] = uploader.sub
    record["uploader_roles"] = sorted(uploader.roles)
    status.put(upload_id, record)


def uploader_of(record: Mapping[str, Any]) -> Caller:
    """Whom an upload's ingest acts for: the caller who asked for its ticket; nobody (an
    anonymous caller, whose bundle ingest refuses) when the status names none, as when it
    expired before the bundle arrived."""
    sub = record.get("uploaded_by")
    if not isinstance(sub, str) or not sub:
        return ANONYMOUS
    roles = record.get("uploader_roles")
    named = [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []
    return Caller(sub=sub, roles=frozenset(named))


def too_large_for_direct(limits: UploadLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Direct uploads are limited to {limits.direct_max_bytes} bytes. For larger bundles, "
        f"POST {REGISTRY}/zip/upload with a JSON body (or none) to get a presigned upload, then "
        "send the file to the URL it returns."
    )


def start_direct(
    filename: str | None,
    data: bytes | None,
    *,
    limits: UploadLimits,
    status: StatusStore,
    objects: ObjectStore,
    uploader: Caller,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """A small bundle sent in the request: queued, then stored where ingest finds it."""
    if data is None:
        raise InvalidInput("The multipart body has no part named 'file'; send -F file=@bundle.zip.")
    if not data:
        raise InvalidInput("The 'file' part is empty.")
    if len(data) > limits.direct_max_bytes:
        raise too_large_for_direct(limits)
    upload_id = str(uuid.uuid4())
    _queue(
        status,
        upload_id,
        {"filename": filename or "bundle.zip", "size": len(data)},
        correlation_id,
        uploader,
    )
    objects.put(upload_key(upload_id), data, "application/zip")
    return {"success": True, "upload_id": upload_id, "status_url": _status_url(upload_id)}


def start_presigned(
    filename: str | None,
    size: int | None,
    *,
    sha256: str | None = None,
    options: SessionOptions | None = None,
    limits: UploadLimits,
    session_limits: sessions.SessionLimits | None = None,
    status: StatusStore,
    objects: ObjectStore,
    uploader: Caller,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """A presigned POST for one bundle (of exactly ``size`` bytes, and with exactly the
    SHA-256 ``sha256``, when declared: the object store refuses other bytes), queued; or,
    past the session threshold or when asked, an upload session for it."""
    options = options or SessionOptions()
    if session_limits is not None and sessions.wants_session(size, options, session_limits):
        sessions.check_request(size, options, session_limits, sha256)
        return _start_session(
            filename, size, options, session_limits, status, objects, uploader, correlation_id
        )
    sessions.check_single(options)
    if size is not None and size > limits.max_bytes:
        raise PayloadTooLarge(
            f"The bundle is {size} bytes; at most {limits.max_bytes} are allowed."
        )
    upload_id = str(uuid.uuid4())
    expires = datetime.now(UTC) + timedelta(seconds=limits.url_expiry_seconds)
    ticket = presigned_ticket(
        objects,
        upload_key(upload_id),
        max_bytes=limits.max_bytes,
        expires_in=limits.url_expiry_seconds,
        size=size,
        sha256=sha256,
    )
    declared: dict[str, Any] = {"filename": filename, "size": size}
    if sha256 is not None:
        declared["sha256"] = sha256
    _queue(status, upload_id, declared, correlation_id, uploader)
    ticket.update(
        expires_at=expires.isoformat(timespec="seconds"), max_bytes=size or limits.max_bytes
    )
    return {
        "success": True,
        "upload_id": upload_id,
        "status_url": _status_url(upload_id),
        "upload": ticket,
    }


def _start_session(
    filename: str | None,
    size: int | None,
    options: SessionOptions,
    limits: sessions.SessionLimits,
    status: StatusStore,
    objects: ObjectStore,
    uploader: Caller,
    correlation_id: str | None,
) -> dict[str, Any]:
    """An upload session for one bundle, its status ``uploading`` until it is completed."""
    upload_id = str(uuid.uuid4())
    session, view = sessions.open_session(
        upload_id,
        upload_key(upload_id),
        size,
        options,
        place=SESSIONS,
        content_type="application/zip",
        limits=limits,
        objects=objects,
    )
    declared = {"filename": filename, "size": size, "session": session}
    _queue(status, upload_id, declared, correlation_id, uploader, sessions.UPLOADING)
    return {
        "success": True,
        "upload_id": upload_id,
        "status_url": _status_url(upload_id),
        "upload": view,
    }


def presigned_ticket(
    objects: ObjectStore,
    key: str,
    *,
    max_bytes: int,
    expires_in: int,
    size: int | None,
    sha256: str | None,
) -> dict[str, Any]:
    """Where a client sends one object: a POST form (``fields``, then the file) of at most
    ``max_bytes``, or exactly ``size``; with a declared ``sha256``, a PUT of exactly those
    bytes, sent with ``headers`` (S3 checks a checksum on a presigned PUT, not on a form)."""
    if sha256 is None:
        post = objects.presigned_post(key, max_bytes=max_bytes, expires_in=expires_in, size=size)
        return {"method": "POST", "url": post.url, "fields": post.fields}
    if size is None:
        raise InvalidInput(
            "A declared sha256 needs the size too: the upload is bound to exactly those bytes.",
            code="SIZE_REQUIRED",
        )
    put = objects.presigned_put(key, size=size, sha256=sha256, expires_in=expires_in)
    return {"method": "PUT", "url": put.url, "headers": put.headers}


def upload_status(upload_id: str, *, status: StatusStore, caller: Caller) -> dict[str, Any]:
    """What a client may see of an upload: its status, and its asset once known. Only its
    uploader and admins see it; for anyone else it does not exist."""
    record = status.get(upload_id) if is_upload_id(upload_id) else None
    if record is not None and not _sees_upload(caller, record):
        record = None
    if record is None:
        raise NotFound(f"No upload has upload_id '{upload_id}'.", code="UPLOAD_NOT_FOUND")
    answer = {"upload_id": upload_id, "status": record.get("status", "queued")}
    for name in ("asset_id", "asset_version", "ingest_runs"):
        if record.get(name):
            answer[name] = record[name]
    return answer


def _sees_upload(caller: Caller, record: Mapping[str, Any]) -> bool:
    session = record.get("session")
    if isinstance(session, dict) and session.get("service") != SESSIONS.service:
        return False  # another service's session (an Assets DB file's)
    return caller.is_admin or caller.owns(record.get("uploaded_by"))
