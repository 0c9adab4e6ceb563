"""Spec 000's ZIP API group: upload (presigned, or small and direct), status, and download."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assets_core.api.http import describe_validation_errors, json_response, redirect, request_base
from assets_core.api.multipart import parse_form, raw_body
from assets_core.config import get_settings
from assets_core.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from assets_core.keys import upload_key
from assets_core.logic import assets
from assets_core.routes import REGISTRY
from assets_core.signing import signed_link, signing_key
from assets_core.stores.registry import assets_store, objects
from assets_core.stores.status import status_store

STREAM_PATH = f"{REGISTRY}/zip/stream"


class UploadRequest(BaseModel):
    """The optional JSON body of a presigned upload request."""

    model_config = ConfigDict(extra="forbid")
    filename: str | None = Field(default=None, max_length=1024)
    size: int | None = Field(default=None, ge=1)


def _queue(upload_id: str, extra: dict[str, Any] | None = None) -> None:
    record = {"status": "queued", "created_at": datetime.now(UTC).isoformat(), **(extra or {})}
    status_store().put(upload_id, record)


def _direct_upload(content_type: str, body: bytes) -> dict[str, Any]:
    """The seed's ``curl -F file=@bundle.zip``: a small bundle sent in the request itself."""
    part = parse_form(content_type, body).get("file")
    if part is None:
        raise InvalidInput("The multipart body has no part named 'file'; send -F file=@bundle.zip.")
    if not part.data:
        raise InvalidInput("The 'file' part is empty.")
    if len(part.data) > get_settings().direct_upload_max_bytes:
        raise _too_large_for_direct()
    upload_id = str(uuid.uuid4())
    _queue(upload_id, {"filename": part.filename or "bundle.zip", "size": len(part.data)})
    objects().put(upload_key(upload_id), part.data, "application/zip")
    return {
        "success": True,
        "upload_id": upload_id,
        "status_url": f"{REGISTRY}/zip/status/{upload_id}",
    }


def _too_large_for_direct() -> PayloadTooLarge:
    limit = get_settings().direct_upload_max_bytes
    return PayloadTooLarge(
        f"Direct uploads are limited to {limit} bytes. For larger bundles, POST "
        f"{REGISTRY}/zip/upload with a JSON body (or none) to get a presigned upload, "
        "then send the file to the URL it returns."
    )


def _presigned_upload(request: UploadRequest) -> dict[str, Any]:
    settings = get_settings()
    if request.size is not None and request.size > settings.upload_max_bytes:
        raise PayloadTooLarge(
            f"The bundle is {request.size} bytes; at most {settings.upload_max_bytes} are allowed."
        )
    upload_id = str(uuid.uuid4())
    expires = datetime.now(UTC) + timedelta(seconds=settings.upload_url_expiry_seconds)
    post = objects().presigned_post(
        upload_key(upload_id),
        max_bytes=settings.upload_max_bytes,
        expires_in=settings.upload_url_expiry_seconds,
        size=request.size,
    )
    _queue(upload_id, {"filename": request.filename, "size": request.size})
    return {
        "success": True,
        "upload_id": upload_id,
        "status_url": f"{REGISTRY}/zip/status/{upload_id}",
        "upload": {
            "method": "POST",
            "url": post.url,
            "fields": post.fields,
            "expires_at": expires.isoformat(timespec="seconds"),
            "max_bytes": request.size or settings.upload_max_bytes,
        },
    }


def register_zip(app: APIGatewayHttpResolver | Router) -> None:
    """POST /zip/upload, GET /zip/status/{upload_id}, GET /zip/download/{asset_id}."""

    @app.post(
        f"{REGISTRY}/zip/upload",
        summary="Upload a ZIP bundle",
        tags=["zip"],
        responses={202: {"description": "Accepted: the upload's id and where to send it"}},
    )
    def upload_bundle() -> Response[Any]:
        event = app.current_event
        content_type = event.headers.get("content-type", "").strip()
        kind = content_type.split(";")[0].strip().lower()
        body = raw_body(event.raw_event)
        if kind == "multipart/form-data":
            return json_response(HTTPStatus.ACCEPTED, _direct_upload(content_type, body))
        if kind and kind != "application/json":
            raise UnsupportedMediaType(
                "Send a JSON body (or none) for a presigned upload, "
                "or multipart/form-data with a 'file' part for a small direct upload."
            )
        try:
            request = UploadRequest.model_validate_json(body or b"{}")
        except ValidationError as exc:
            raise InvalidInput(describe_validation_errors(exc.errors())) from exc
        return json_response(HTTPStatus.ACCEPTED, _presigned_upload(request))

    @app.get(f"{REGISTRY}/zip/status/<upload_id>", summary="An upload's status", tags=["zip"])
    def upload_status(upload_id: Annotated[str, Path()]) -> dict[str, Any]:
        record = status_store().get(upload_id) if _is_uuid(upload_id) else None
        if record is None:
            raise NotFound(f"No upload has upload_id '{upload_id}'.", code="UPLOAD_NOT_FOUND")
        answer = {"upload_id": upload_id, "status": record.get("status", "queued")}
        if record.get("asset_id"):
            answer["asset_id"] = record["asset_id"]
        return answer

    @app.get(
        f"{REGISTRY}/zip/download/<asset_id>",
        summary="Download an asset as a ZIP",
        tags=["zip"],
        responses={307: {"description": "Redirect to the signed stream"}},
    )
    def download_asset(asset_id: Annotated[str, Path()]) -> Response[Any]:
        if not assets.exists(asset_id, store=assets_store()):
            raise NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")
        settings = get_settings()
        base = settings.download_url or request_base(app.current_event.headers) + STREAM_PATH
        location = signed_link(
            base, asset_id, key=signing_key(), ttl_seconds=settings.download_token_ttl_seconds
        )
        return redirect(location)


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
