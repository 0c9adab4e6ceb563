"""The Assets DB's routes (spec 001), under /assetdb: files with metadata."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router
from pydantic import ValidationError

from assets_core.api.http import (
    ETAG,
    Cursor,
    Limit,
    RedirectQuery,
    answers,
    audited_in,
    describe_validation_errors,
    form_or_json_body,
    head_answers,
    if_match,
    json_response,
    loads_json,
    redirect,
    request_base,
    validated_json,
    versioned_response,
)
from assets_core.api.multipart import FormPart, upload_body
from assets_core.api.sessions import add_session_routes, session_limits
from assets_core.config import get_settings
from assets_core.errors import InvalidInput, PayloadTooLarge
from assets_core.identity import current_caller
from assets_core.logic import assetdb, sessions
from assets_core.logic.audit import ASSET_RECORD, Change
from assets_core.logic.audit import ASSETDB as SERVICE
from assets_core.models.assetdb import (
    SYSTEM_FIELDS,
    AssetObjectFields,
    AssetObjectUpdate,
    PresignedAssetRequest,
)
from assets_core.models.responses import (
    AssetObjectDeleted,
    AssetObjectPage,
    AssetObjectRecord,
    PresignedAssetRecord,
    Redirect,
)
from assets_core.pagination import PageRequest
from assets_core.ports import Versioned
from assets_core.routes import ASSETDB
from assets_core.stores.factory import assetdb_store, audit_trail, objects, upload_status_store

OBJECT_LINK_SECONDS = 300
UPLOAD = "/upload_asset"  # the route that also takes a small file as a form


def public_base(headers: dict[str, str]) -> str:
    """Where this Assets DB is reached: ``PUBLIC_BASE_URL``, else the request's own host."""
    configured = get_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    return request_base(headers)


def _fields(raw: Any) -> AssetObjectFields:
    if isinstance(raw, dict):
        sent = [name for name in SYSTEM_FIELDS if name in raw]
        if sent:
            raise InvalidInput(
                f"{', '.join(sent)} {'is' if len(sent) == 1 else 'are'} set by the server; "
                "leave them out."
            )
    try:
        return AssetObjectFields.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(exc.errors())) from exc


def _upload_multipart(parts: dict[str, FormPart], headers: dict[str, str]) -> dict[str, Any]:
    settings = get_settings()
    file_part, metadata_part = parts.get("asset"), parts.get("asset_metadata")
    if file_part is None or not file_part.data:
        raise InvalidInput("The form needs the file in a part named 'asset' (-F asset=@file).")
    if metadata_part is None:
        raise InvalidInput("The form needs a part named 'asset_metadata' holding JSON.")
    if len(file_part.data) > settings.assetdb_direct_max_bytes:
        raise too_large()
    raw = loads_json(metadata_part.data or b"", "'asset_metadata'")
    if "asset_public_url" in (raw if isinstance(raw, dict) else {}):
        raise InvalidInput("asset_public_url is set by the server for uploaded files.")
    fields = _fields(raw)
    return assetdb.create_uploaded(
        fields,
        data=file_part.data,
        filename=file_part.filename or "asset",
        content_type=file_part.content_type if file_part.content_type != "text/plain" else "",
        assets_db_id=settings.assets_db_id,
        public_base=public_base(headers),
        store=assetdb_store(),
        files=objects(),
        trail=audit_trail(),
    )


def too_large() -> PayloadTooLarge:
    """A file over the direct limit (the handler's body check answers the same)."""
    limit = get_settings().assetdb_direct_max_bytes
    return PayloadTooLarge(
        f"Files sent in the request are limited to {limit} bytes. For larger files, POST "
        f'{ASSETDB}{UPLOAD} with JSON {{"filename", "size", "asset_metadata"}} to get '
        "a presigned upload."
    )


def _upload_presigned(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    settings = get_settings()
    request = validated_json(PresignedAssetRequest, body or b"{}")
    limits = session_limits()
    in_session = sessions.wants_session(request.size, request, limits)
    if in_session:
        sessions.check_request(request.size, request, limits, request.sha256)
    else:
        sessions.check_single(request)
    record: dict[str, Any] = audited(
        lambda: assetdb.start_presigned_upload(
            request.asset_metadata,
            filename=request.filename,
            size=request.size,
            content_type=request.content_type,
            max_bytes=settings.assetdb_max_bytes,
            expires_in=settings.upload_url_expiry_seconds,
            assets_db_id=settings.assets_db_id,
            public_base=public_base(headers),
            store=assetdb_store(),
            objects=objects(),
            sha256=request.sha256,
            ticket=not in_session,
        ),
        lambda started: Change("AssetRecordCreated", ASSET_RECORD, started["asset_id"]),
    )
    if not in_session:
        return record
    return assetdb.open_file_session(
        record,
        request,
        limits=limits,
        objects=objects(),
        status=upload_status_store(),
        uploader=current_caller(),
    )


router = Router()
audited = audited_in(SERVICE)
TAGS = ["assetdb"]
add_session_routes(router, assetdb.SESSIONS, "/uploads", TAGS)


@router.post(
    UPLOAD,
    summary="Upload a file with its metadata",
    tags=TAGS,
    openapi_extensions=form_or_json_body(
        {
            "asset": {"type": "string", "format": "binary", "description": "The file"},
            "asset_metadata": {"type": "string", "description": "The record's fields, as JSON"},
        },
        PresignedAssetRequest,
    ),
    responses=answers(
        201,
        PresignedAssetRecord | AssetObjectRecord,
        409,
        description="The record: with its upload ticket for JSON, complete for a form",
    ),
)
def upload_asset() -> Response[Any]:
    event = router.current_event
    body = upload_body(
        event.raw_event,
        unsupported="Send multipart/form-data with parts 'asset' and 'asset_metadata', or "
        "JSON for a presigned upload.",
    )
    if body.parts is not None:
        created = _upload_multipart(body.parts, event.headers)
    else:
        created = _upload_presigned(body.json, event.headers)
    return json_response(HTTPStatus.CREATED, created)


@router.post(
    "/asset",
    summary="Register an external asset (no file)",
    tags=TAGS,
    responses=answers(201, AssetObjectRecord, 409),
)
def create_external(body: Annotated[dict[str, Any], Body()]) -> Response[Any]:
    created = audited(
        lambda: assetdb.create_external(
            _fields(body), assets_db_id=get_settings().assets_db_id, store=assetdb_store()
        ),
        lambda document: Change("AssetRecordCreated", ASSET_RECORD, document["asset_id"]),
    )
    return json_response(HTTPStatus.CREATED, created)


@router.get(
    "/asset/<asset_uri>",
    summary="Get an asset by URI",
    tags=TAGS,
    responses=answers(200, AssetObjectRecord, headers=ETAG),
)
def get_asset(asset_uri: Annotated[str, Path()]) -> Response[Any]:
    return versioned_response(assetdb.read_by_uri(asset_uri, store=assetdb_store()))


@router.put(
    "/asset/<asset_uri>",
    summary="Update an asset (If-Match: its ETag, else 409 when it changed)",
    tags=TAGS,
    responses=answers(200, AssetObjectRecord, 409, headers=ETAG),
)
def update_asset(
    asset_uri: Annotated[str, Path()], patch: Annotated[AssetObjectUpdate, Body()]
) -> Response[Any]:
    updated = audited(
        lambda: assetdb.update(
            asset_uri, patch, store=assetdb_store(), precondition=if_match(router)
        ),
        lambda done: record_updated(done, patch),
    )
    return versioned_response(updated)


@router.delete(
    "/asset/<asset_uri>",
    summary="Delete an asset and its file",
    tags=TAGS,
    responses=answers(200, AssetObjectDeleted, 409),
)
def delete_asset(asset_uri: Annotated[str, Path()]) -> dict[str, Any]:
    return audited(
        lambda: assetdb.delete(
            asset_uri, store=assetdb_store(), files=objects(), precondition=if_match(router)
        ),
        lambda done: Change("AssetRecordDeleted", ASSET_RECORD, done["asset_id"]),
    )


# The same by asset_id: every record has one, while a record registered without a name
# (a presigned upload with no metadata) has no URI to be reached by.
@router.get(
    "/asset-by-id/<asset_id>",
    summary="Get an asset by id",
    tags=TAGS,
    responses=answers(200, AssetObjectRecord, headers=ETAG),
)
def get_asset_by_id(asset_id: Annotated[str, Path()]) -> Response[Any]:
    return versioned_response(assetdb.read_by_id(asset_id, store=assetdb_store()))


@router.put(
    "/asset-by-id/<asset_id>",
    summary="Update an asset by id (If-Match: its ETag, else 409 when it changed)",
    tags=TAGS,
    responses=answers(200, AssetObjectRecord, 409, headers=ETAG),
)
def update_asset_by_id(
    asset_id: Annotated[str, Path()], patch: Annotated[AssetObjectUpdate, Body()]
) -> Response[Any]:
    updated = audited(
        lambda: assetdb.update_record(
            asset_id, patch, store=assetdb_store(), precondition=if_match(router)
        ),
        lambda done: record_updated(done, patch),
    )
    return versioned_response(updated)


@router.delete(
    "/asset-by-id/<asset_id>",
    summary="Delete an asset by id, and its file",
    tags=TAGS,
    responses=answers(200, AssetObjectDeleted, 409),
)
def delete_asset_by_id(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
    store = assetdb_store()

    def delete() -> dict[str, Any]:
        current = assetdb.read_by_id(asset_id, store=store)
        return assetdb.delete_record(
            current, store=store, files=objects(), precondition=if_match(router)
        )

    return audited(delete, Change("AssetRecordDeleted", ASSET_RECORD, asset_id))


def record_updated(updated: Versioned, patch: AssetObjectUpdate) -> Change:
    """An Assets DB record's update, naming the fields it set."""
    return Change(
        "AssetRecordUpdated",
        ASSET_RECORD,
        str(updated.document["asset_id"]),
        changes=tuple(patch.model_dump(exclude_unset=True)),
    )


@router.post("/assets", summary="Query assets", tags=TAGS, responses=answers(200, AssetObjectPage))
def query_assets(
    body: Annotated[dict[str, Any], Body()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assetdb.query(body, page, store=assetdb_store()).body()


@router.get(
    "/asset-object/<asset_id>",
    summary="Download an asset's file",
    tags=TAGS,
    responses={
        **answers(307, Redirect, description="To the file: a signed link, or the public URL"),
        **answers(200, Redirect, description="With ?redirect=false: that link, as JSON"),
    },
)
def get_asset_object(
    asset_id: Annotated[str, Path()], redirect_to: RedirectQuery = None
) -> Response[Any]:
    location = assetdb.file_location(
        asset_id, store=assetdb_store(), files=objects(), expires_in=OBJECT_LINK_SECONDS
    )
    return redirect(location, redirect_to)


FILE_HEADERS = {
    "Content-Length": "The file's size in bytes",
    "Content-Type": "Its media type",
    "Content-Disposition": "attachment, with its original file name",
    "Last-Modified": "When its record last changed",
    "x-checksum-sha256": "The SHA-256 of its bytes, in hex",
}


@router.route(
    "/asset-object/<asset_id>",
    method="HEAD",
    summary="Describe an asset's file: size, type, name, sha256; no body",
    tags=TAGS,
    responses=head_answers(FILE_HEADERS, "An external asset: to its public URL"),
)
def head_asset_object(asset_id: Annotated[str, Path()]) -> Response[Any]:
    described = assetdb.file_descriptor(asset_id, store=assetdb_store())
    if isinstance(described, str):
        return redirect(described)
    return Response(status_code=HTTPStatus.OK, body="", headers=described)
