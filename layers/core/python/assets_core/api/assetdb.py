"""Spec 001's Assets DB API under /assetdb."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router
from pydantic import ValidationError

from assets_core.api.http import (
    Cursor,
    Limit,
    describe_validation_errors,
    if_match,
    json_response,
    loads_json,
    redirect,
    request_base,
    versioned_response,
)
from assets_core.api.multipart import parse_form, raw_body
from assets_core.config import get_settings
from assets_core.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from assets_core.logic import assetdb
from assets_core.models.assetdb import (
    SYSTEM_FIELDS,
    AssetObjectFields,
    AssetObjectUpdate,
    PresignedAssetRequest,
)
from assets_core.pagination import PageRequest
from assets_core.routes import ASSETDB
from assets_core.stores.registry import assetdb_store, objects

OBJECT_LINK_SECONDS = 300


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


def _upload_multipart(content_type: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    settings = get_settings()
    parts = parse_form(content_type, body)
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
    )


def too_large() -> PayloadTooLarge:
    """A file over the direct limit (the handler's body check answers the same)."""
    limit = get_settings().assetdb_direct_max_bytes
    return PayloadTooLarge(
        f"Files sent in the request are limited to {limit} bytes. For larger files, POST "
        f'{ASSETDB}/upload_asset with JSON {{"filename", "size", "asset_metadata"}} to get '
        "a presigned upload."
    )


def _upload_presigned(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    settings = get_settings()
    try:
        request = PresignedAssetRequest.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(exc.errors())) from exc
    return assetdb.start_presigned_upload(
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
    )


def register_assetdb(app: APIGatewayHttpResolver | Router) -> None:  # noqa: C901
    tags = ["assetdb"]

    @app.post(
        f"{ASSETDB}/upload_asset",
        summary="Upload a file with its metadata",
        tags=tags,
        responses={201: {"description": "The created asset"}},
    )
    def upload_asset() -> Response[Any]:
        event = app.current_event
        content_type = event.headers.get("content-type", "")
        kind = content_type.split(";")[0].strip().lower()
        body = raw_body(event.raw_event)
        if kind == "multipart/form-data":
            created = _upload_multipart(content_type, body, event.headers)
        elif kind in ("", "application/json"):
            created = _upload_presigned(body, event.headers)
        else:
            raise UnsupportedMediaType(
                "Send multipart/form-data with parts 'asset' and 'asset_metadata', or JSON "
                "for a presigned upload."
            )
        return json_response(HTTPStatus.CREATED, created)

    @app.post(f"{ASSETDB}/asset", summary="Register an external asset (no file)", tags=tags)
    def create_external(body: Annotated[dict[str, Any], Body()]) -> Response[Any]:
        created = assetdb.create_external(
            _fields(body), assets_db_id=get_settings().assets_db_id, store=assetdb_store()
        )
        return json_response(HTTPStatus.CREATED, created)

    @app.get(f"{ASSETDB}/asset/<asset_uri>", summary="Get an asset by URI", tags=tags)
    def get_asset(asset_uri: Annotated[str, Path()]) -> Response[Any]:
        return versioned_response(assetdb.read_by_uri(asset_uri, store=assetdb_store()))

    @app.put(
        f"{ASSETDB}/asset/<asset_uri>",
        summary="Update an asset (If-Match: its ETag, else 409 when it changed)",
        tags=tags,
    )
    def update_asset(
        asset_uri: Annotated[str, Path()], patch: Annotated[AssetObjectUpdate, Body()]
    ) -> Response[Any]:
        updated = assetdb.update(
            asset_uri, patch, store=assetdb_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.delete(f"{ASSETDB}/asset/<asset_uri>", summary="Delete an asset and its file", tags=tags)
    def delete_asset(asset_uri: Annotated[str, Path()]) -> dict[str, Any]:
        return assetdb.delete(
            asset_uri, store=assetdb_store(), files=objects(), precondition=if_match(app)
        )

    # The same by asset_id: every record has one, while a record registered without a name
    # (a presigned upload with no metadata) has no URI to be reached by.
    @app.get(f"{ASSETDB}/asset-by-id/<asset_id>", summary="Get an asset by id", tags=tags)
    def get_asset_by_id(asset_id: Annotated[str, Path()]) -> Response[Any]:
        return versioned_response(assetdb.read_by_id(asset_id, store=assetdb_store()))

    @app.put(
        f"{ASSETDB}/asset-by-id/<asset_id>",
        summary="Update an asset by id (If-Match: its ETag, else 409 when it changed)",
        tags=tags,
    )
    def update_asset_by_id(
        asset_id: Annotated[str, Path()], patch: Annotated[AssetObjectUpdate, Body()]
    ) -> Response[Any]:
        updated = assetdb.update_record(
            asset_id, patch, store=assetdb_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.delete(
        f"{ASSETDB}/asset-by-id/<asset_id>",
        summary="Delete an asset by id, and its file",
        tags=tags,
    )
    def delete_asset_by_id(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
        store = assetdb_store()
        current = assetdb.read_by_id(asset_id, store=store)
        return assetdb.delete_record(
            current, store=store, files=objects(), precondition=if_match(app)
        )

    @app.post(f"{ASSETDB}/assets", summary="Query assets", tags=tags)
    def query_assets(
        body: Annotated[dict[str, Any], Body()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return assetdb.query(body, page, store=assetdb_store()).body()

    @app.get(
        f"{ASSETDB}/asset-object/<asset_id>",
        summary="Download an asset's file",
        tags=tags,
        responses={307: {"description": "Redirect to the file"}},
    )
    def get_asset_object(asset_id: Annotated[str, Path()]) -> Response[Any]:
        asset = assetdb.get_by_id(asset_id, store=assetdb_store())
        info = asset.get("asset_file_info") or {}
        if info.get("key"):
            if info.get("status") != "available":
                raise NotFound("The file has not been uploaded yet.", code="ASSET_OBJECT_PENDING")
            location = objects().presigned_get(
                info["key"],
                expires_in=OBJECT_LINK_SECONDS,
                filename=info.get("original_filename"),
            )
        elif asset.get("asset_public_url"):
            location = asset["asset_public_url"]
        else:
            raise NotFound("This asset has no file and no public URL.", code="ASSET_HAS_NO_OBJECT")
        return redirect(location)


ASSETDB_REST = (register_assetdb,)
