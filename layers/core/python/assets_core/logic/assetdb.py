"""Spec 001's Assets DB: asset records with an optional stored file, found by URI or query."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Protocol

from assets_core.commit import after_commit
from assets_core.errors import AlreadyExists, InvalidInput, NotFound, PayloadTooLarge
from assets_core.filters import validate_filter
from assets_core.identity import Caller
from assets_core.keys import ASSETDB_PREFIX, content_disposition
from assets_core.logic import audit, sessions
from assets_core.logic.revisions import Precondition, insert_new, modify
from assets_core.logic.uploads import presigned_ticket
from assets_core.models.assetdb import AssetObjectFields, AssetObjectUpdate, asset_uri
from assets_core.models.sessions import SessionOptions
from assets_core.pagination import Page, PageRequest
from assets_core.ports import AuditTrail, DocumentStore, ObjectStore, StatusStore, Versioned
from assets_core.scoping import unscoped

KEY_PREFIX = ASSETDB_PREFIX
SESSIONS = sessions.Place(service="assetdb", base="/assetdb/uploads", completed="completed")
OBJECT_KEY = re.compile(r"^assetdb/([0-9a-f-]{36})/[0-9a-f-]{36}(\.[A-Za-z0-9]{1,16})?$")


class FileStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str = ...) -> None: ...
    def delete(self, keys: Any) -> None: ...


def object_key(asset_id: str, filename: str) -> str:
    """A collision-free key: ``assetdb/<asset_id>/<uuid>.<ext>``, the extension kept from the
    original name when it is a plain one."""
    ext = filename.rsplit(".", 1)[-1] if "." in filename else ""
    suffix = f".{ext.lower()}" if re.fullmatch(r"[A-Za-z0-9]{1,16}", ext) else ""
    return f"{KEY_PREFIX}{asset_id}/{uuid.uuid4()}{suffix}"


def asset_id_of_key(key: str) -> str | None:
    found = OBJECT_KEY.match(key)
    return found.group(1) if found else None


def _not_found(uri: str) -> NotFound:
    return NotFound(f"No asset has asset_uri '{uri}'.", code="ASSET_NOT_FOUND")


def _document(fields: AssetObjectFields, asset_id: str, assets_db_id: str) -> dict[str, Any]:
    data = fields.model_dump(mode="json")
    version = data["asset_version"]
    return {
        "asset_uri": asset_uri(data["asset_name"], version["version"], version["tag"]),
        "asset_name": data["asset_name"],
        "asset_id": asset_id,
        "assets_db_id": assets_db_id,
        "asset_version": version,
        "asset_metadata": data["asset_metadata"],
        "asset_public_url": data["asset_public_url"],
        "asset_file_info": {},
        "asset_tags": data["asset_tags"],
        "visibility": data["visibility"],
    }


def _uri_taken(uri: str) -> AlreadyExists:
    return AlreadyExists(
        f"An asset with asset_uri '{uri}' already exists; change its name, version or tag.",
        code="ASSET_URI_EXISTS",
    )


def _insert(document: dict[str, Any], store: DocumentStore) -> dict[str, Any]:
    return insert_new(store, document, lambda: _uri_taken(document["asset_uri"]))


def _check_uri_free(uri: str, store: DocumentStore, *, except_id: str | None = None) -> None:
    if not uri:
        return
    found = unscoped(store).find_one({"asset_uri": uri})  # taken, whoever may see it
    if found is not None and found["asset_id"] != except_id:
        raise _uri_taken(uri)


def create_external(
    fields: AssetObjectFields, *, assets_db_id: str, store: DocumentStore
) -> dict[str, Any]:
    """An asset whose file lives elsewhere (``asset_public_url``), or none at all."""
    document = _document(fields, str(uuid.uuid4()), assets_db_id)
    _check_uri_free(document["asset_uri"], store)
    return _insert(document, store)


def create_uploaded(
    fields: AssetObjectFields,
    *,
    data: bytes,
    filename: str,
    content_type: str,
    assets_db_id: str,
    public_base: str,
    store: DocumentStore,
    files: FileStore,
    trail: AuditTrail | None = None,
) -> dict[str, Any]:
    """Store a small file and its record together; nothing is left if either fails.

    The record is written first, as pending: the object's arrival event must find a record
    naming it, or ingest removes the object as one no record describes."""
    mime = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    document = _file_record(
        fields,
        filename,
        assets_db_id=assets_db_id,
        public_base=public_base,
        store=store,
        info={
            "status": "pending",
            "size": len(data),
            "content_type": mime,
            "sha256": hashlib.sha256(data).hexdigest(),
            "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        },
    )
    _insert(document, store)
    key = document["asset_file_info"]["key"]
    try:
        files.put(key, data, mime)
    except BaseException:
        store.delete(document["asset_id"])
        raise
    document["asset_file_info"]["status"] = "available"
    # The record's creation is recorded with the write that makes it available (before it,
    # the pending record is the upload's own bookkeeping).
    stored = audit.recorded(
        trail,
        audit.ASSETDB,
        lambda: store.update(
            document["asset_id"], {"$set": {"asset_file_info.status": "available"}}
        ),
        audit.Change("AssetRecordCreated", audit.ASSET_RECORD, document["asset_id"]),
    )
    return stored or document


def create_pending(
    fields: AssetObjectFields,
    *,
    filename: str,
    size: int,
    content_type: str,
    assets_db_id: str,
    public_base: str,
    store: DocumentStore,
) -> dict[str, Any]:
    """The record of a file still to be sent by a presigned upload."""
    document = _file_record(
        fields,
        filename,
        assets_db_id=assets_db_id,
        public_base=public_base,
        store=store,
        info={"status": "pending", "size": size, "content_type": content_type},
    )
    return _insert(document, store)


def start_presigned_upload(
    fields: AssetObjectFields,
    *,
    filename: str,
    size: int,
    content_type: str,
    max_bytes: int,
    expires_in: int,
    assets_db_id: str,
    public_base: str,
    store: DocumentStore,
    objects: ObjectStore,
    sha256: str | None = None,
    ticket: bool = True,
) -> dict[str, Any]:
    """A pending record and the presigned POST that stores its file (exactly ``size``
    bytes, and with exactly the SHA-256 ``sha256`` when declared); the record is completed
    when the file arrives (``finish_upload``). Without ``ticket``, the record alone: its
    file comes by an upload session (``open_file_session``, once the record is stored)."""
    if ticket and size > max_bytes:
        raise PayloadTooLarge(f"The file is {size} bytes; at most {max_bytes} are allowed.")
    record = create_pending(
        fields,
        filename=filename,
        size=size,
        content_type=content_type,
        assets_db_id=assets_db_id,
        public_base=public_base,
        store=store,
    )
    if not ticket:
        return record
    signed = presigned_ticket(
        objects,
        record["asset_file_info"]["key"],
        max_bytes=max_bytes,
        expires_in=expires_in,
        size=size,
        sha256=sha256,
    )
    return {**record, "upload": signed}


def open_file_session(
    record: dict[str, Any],
    options: SessionOptions,
    *,
    limits: sessions.SessionLimits,
    objects: ObjectStore,
    status: StatusStore,
    uploader: Caller,
) -> dict[str, Any]:
    """An upload session for a pending record's file: the record, with the session."""
    info = record["asset_file_info"]
    upload_id = str(uuid.uuid4())
    session, view = sessions.open_session(
        upload_id,
        str(info["key"]),
        int(info["size"]),
        options,
        place=SESSIONS,
        content_type=str(info["content_type"]),
        limits=limits,
        objects=objects,
    )
    status.put(
        upload_id,
        {
            "status": sessions.UPLOADING,
            "created_at": datetime.now(UTC).isoformat(),
            "asset_id": record["asset_id"],
            "uploaded_by": uploader.sub,
            "session": session,
        },
    )
    return {**record, "upload": view}


def _file_record(
    fields: AssetObjectFields,
    filename: str,
    *,
    assets_db_id: str,
    public_base: str,
    store: DocumentStore,
    info: dict[str, Any],
) -> dict[str, Any]:
    """A new record for a file this Assets DB stores: a fresh id and key, its public URL,
    and the file's details."""
    asset_id = str(uuid.uuid4())
    document = _document(fields, asset_id, assets_db_id)
    _check_uri_free(document["asset_uri"], store)
    document["asset_public_url"] = f"{public_base}/assetdb/asset-object/{asset_id}"
    document["asset_file_info"] = {
        "key": object_key(asset_id, filename),
        "original_filename": filename,
        **info,
    }
    return document


def complete_upload(
    key: str, *, size: int, sha256: str, md5: str, store: DocumentStore
) -> dict[str, Any] | None:
    """Record that a presigned upload's file arrived: its real size and checksums, written
    over the revision read, so a concurrent update neither loses them nor is lost."""
    asset_id = asset_id_of_key(key)
    if asset_id is None:
        return None

    def write(current: Versioned) -> dict[str, Any] | None:
        if current.document.get("asset_file_info", {}).get("key") != key:
            return None
        info = {"status": "available", "size": size, "sha256": sha256, "md5": md5}
        changes = {f"asset_file_info.{field}": value for field, value in info.items()}
        return store.update(asset_id, {"$set": changes}, revision=current.revision)

    try:
        completed, _ = modify(
            store,
            asset_id,
            write,
            precondition=None,
            missing=lambda: NotFound(asset_id),
            what=f"The asset '{asset_id}'",
        )
    except NotFound:
        return None
    return completed


def get_by_uri(uri: str, *, store: DocumentStore) -> dict[str, Any]:
    return read_by_uri(uri, store=store).document


def read_by_uri(uri: str, *, store: DocumentStore) -> Versioned:
    found = store.read_one({"asset_uri": uri}) if uri else None
    if found is None:
        raise _not_found(uri)
    return found


def get_by_id(asset_id: str, *, store: DocumentStore) -> dict[str, Any]:
    return read_by_id(asset_id, store=store).document


def read_by_id(asset_id: str, *, store: DocumentStore) -> Versioned:
    found = store.read(asset_id)
    if found is None:
        raise _id_not_found(asset_id)
    return found


def _id_not_found(asset_id: str) -> NotFound:
    return NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")


def update(
    uri: str,
    patch: AssetObjectUpdate,
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> Versioned:
    """Change the fields sent of the record with this URI (see ``update_record``)."""
    first = read_by_uri(uri, store=store)
    return update_record(first.document["asset_id"], patch, store=store, precondition=precondition)


def update_record(
    asset_id: str,
    patch: AssetObjectUpdate,
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> Versioned:
    """Change the fields sent; a changed name, version or tag recomputes the URI, which must
    stay unique. Written over the revision read (``If-Match`` when given), so a concurrent
    update or an upload completing meanwhile is never overwritten."""
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise InvalidInput("The update is empty; send at least one field to change.")
    if any(value is None for value in changes.values()):
        raise InvalidInput("Fields cannot be set to null; send a value or leave them out.")

    def write(current: Versioned) -> dict[str, Any]:
        merged = {**current.document, **changes}
        version = merged["asset_version"]
        merged["asset_uri"] = asset_uri(merged["asset_name"], version["version"], version["tag"])
        _check_uri_free(merged["asset_uri"], store, except_id=asset_id)
        try:
            if not store.replace(asset_id, merged, revision=current.revision):
                raise _id_not_found(asset_id)
        except AlreadyExists:
            raise _uri_taken(merged["asset_uri"]) from None
        return merged

    return Versioned(
        *modify(
            store,
            asset_id,
            write,
            precondition=precondition,
            missing=lambda: _id_not_found(asset_id),
            what=f"The asset '{asset_id}'",
        )
    )


def delete(
    uri: str,
    *,
    store: DocumentStore,
    files: FileStore,
    precondition: Precondition | None = None,
) -> dict[str, Any]:
    """Delete the record with this URI and its stored file."""
    current = read_by_uri(uri, store=store)
    return delete_record(current, store=store, files=files, precondition=precondition)


def delete_record(
    current: Versioned,
    *,
    store: DocumentStore,
    files: FileStore,
    precondition: Precondition | None = None,
) -> dict[str, Any]:
    """Delete the record and its stored file (with ``If-Match``, only at a revision it
    names)."""
    document = current.document
    if precondition is not None:
        precondition.check(current, f"The asset '{document['asset_id']}'")
    revision = current.revision if precondition is not None else None
    if not store.delete(document["asset_id"], revision=revision):
        raise _id_not_found(document["asset_id"])
    key = document.get("asset_file_info", {}).get("key")
    if key:
        after_commit(lambda: files.delete([key]))  # the record names it until then
    return {
        "success": True,
        "asset_uri": document.get("asset_uri", ""),
        "asset_id": document["asset_id"],
        "deleted": True,
    }


def plain_query(body: Any) -> dict[str, Any]:
    """The spec's query form: a plain object value matches field by field and a plain list
    matches arrays holding all its values; operator objects pass through as they are."""
    if not isinstance(body, dict):
        raise InvalidInput("The query must be a JSON object.")
    query: dict[str, Any] = {}
    for field, value in body.items():
        if field.startswith("$"):
            query[field] = value
        elif isinstance(value, dict) and value and not any(k.startswith("$") for k in value):
            for path, inner in _flatten(field, value):
                query[path] = inner
        elif isinstance(value, list):
            query[field] = {"$all": value}
        else:
            query[field] = value
    return query


def _flatten(prefix: str, value: dict[str, Any]) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, inner in value.items():
        path = f"{prefix}.{key}"
        if isinstance(inner, dict) and inner and not any(k.startswith("$") for k in inner):
            pairs.extend(_flatten(path, inner))
        elif isinstance(inner, list):
            pairs.append((path, {"$all": inner}))
        else:
            pairs.append((path, inner))
    return pairs


def query(body: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets matching either query form of the spec."""
    validate_filter(body)
    return store.find_page(validate_filter(plain_query(body)), page)


class ReadableFiles(Protocol):
    def size(self, key: str) -> int | None: ...
    def stream_range(self, key: str, start: int, end: int, chunk: int = ...) -> Any: ...
    def delete(self, keys: Any) -> None: ...


def finish_upload(
    key: str, *, files: ReadableFiles, store: DocumentStore, trail: AuditTrail | None = None
) -> dict[str, Any] | None:
    """A presigned upload's file arrived: read it, in chunks, for its size and checksums, and
    mark the record available with them.

    Every arrival is read, even for a record already available: a ticket stays valid until it
    expires, and a second POST to it replaces the object under the same key (S3 cannot keep
    the first), so the record is made to describe the bytes now stored. A repeated event
    finds the same checksums and changes nothing. An object that no record names (its record
    was deleted before the ticket was used) is removed."""
    asset_id = asset_id_of_key(key)
    if asset_id is None:
        return None
    document = store.get(asset_id)
    info = (document or {}).get("asset_file_info", {})
    if document is None or info.get("key") != key:
        files.delete([key])
        return None
    size = files.size(key)
    if size is None:
        return None
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    for chunk in files.stream_range(key, 0, size, 1024 * 1024):
        sha256.update(chunk)
        md5.update(chunk)
    found = (size, sha256.hexdigest(), md5.hexdigest())
    if info.get("status") == "available" and found == tuple(
        info.get(name) for name in ("size", "sha256", "md5")
    ):
        return None
    # The file is read first (it may take minutes); its record changes in one short step.
    return audit.recorded(
        trail,
        audit.ASSETDB,
        lambda: complete_upload(key, size=found[0], sha256=found[1], md5=found[2], store=store),
        lambda done: (
            None
            if done is None
            else audit.Change(
                "AssetObjectStored",
                audit.ASSET_RECORD,
                str(done["asset_id"]),
                detail={"size": size},
            )
        ),
    )


def file_location(
    asset_id: str, *, store: DocumentStore, files: ObjectStore, expires_in: int
) -> str:
    """Where a record's file is fetched: a signed link to the stored object, valid for
    ``expires_in`` seconds, or the record's public URL for an external asset."""
    asset = get_by_id(asset_id, store=store)
    info = _stored_file(asset)
    if info is not None:
        return files.presigned_get(
            info["key"],
            expires_in=expires_in,
            filename=info.get("original_filename"),
            content_type=info.get("content_type"),
        )
    return _public_url(asset)


def file_descriptor(asset_id: str, *, store: DocumentStore) -> dict[str, str] | str:
    """What ``HEAD`` answers of a record's file: its headers (``Content-Length``,
    ``Content-Type``, ``Content-Disposition``, ``Last-Modified``, ``x-checksum-sha256``) for a
    stored file, or the public URL of an external asset (a redirect, as ``GET`` answers)."""
    asset = get_by_id(asset_id, store=store)
    info = _stored_file(asset)
    if info is None:
        return _public_url(asset)
    headers = {
        "Content-Length": str(info.get("size") or 0),
        "Content-Type": str(info.get("content_type") or "application/octet-stream"),
    }
    if info.get("original_filename"):
        headers["Content-Disposition"] = content_disposition(str(info["original_filename"]))
    if info.get("sha256"):
        headers["x-checksum-sha256"] = str(info["sha256"])
    changed = asset.get("updated_at") or asset.get("created_at")
    if isinstance(changed, str):
        with contextlib.suppress(ValueError):
            headers["Last-Modified"] = format_datetime(
                datetime.fromisoformat(changed).astimezone(UTC), usegmt=True
            )
    return headers


def _stored_file(asset: dict[str, Any]) -> dict[str, Any] | None:
    """The record's stored file, once it has arrived; None for an external asset."""
    info = asset.get("asset_file_info") or {}
    if not info.get("key"):
        return None
    if info.get("status") != "available":
        raise NotFound("The file has not been uploaded yet.", code="ASSET_OBJECT_PENDING")
    return dict(info)


def _public_url(asset: dict[str, Any]) -> str:
    if asset.get("asset_public_url"):
        return str(asset["asset_public_url"])
    raise NotFound("This asset has no file and no public URL.", code="ASSET_HAS_NO_OBJECT")
