"""Spec 000's ZIP API group: upload (presigned, or small and direct), status, and download."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assets_core.api.http import describe_validation_errors, json_response, redirect, request_base
from assets_core.api.multipart import parse_form, raw_body
from assets_core.config import get_settings
from assets_core.errors import InvalidInput, UnsupportedMediaType
from assets_core.logic import uploads
from assets_core.routes import REGISTRY
from assets_core.signing import signing_key
from assets_core.stores.registry import assets_store, objects
from assets_core.stores.status import status_store

STREAM_PATH = f"{REGISTRY}/zip/stream"


class UploadRequest(BaseModel):
    """The optional JSON body of a presigned upload request."""

    model_config = ConfigDict(extra="forbid")
    filename: str | None = Field(default=None, max_length=1024)
    size: int | None = Field(default=None, ge=1)


def limits() -> uploads.UploadLimits:
    settings = get_settings()
    return uploads.UploadLimits(
        max_bytes=settings.upload_max_bytes,
        direct_max_bytes=settings.direct_upload_max_bytes,
        url_expiry_seconds=settings.upload_url_expiry_seconds,
    )


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
            part = parse_form(content_type, body).get("file")
            started = uploads.start_direct(
                part.filename if part else None,
                part.data if part else None,
                limits=limits(),
                status=status_store(),
                objects=objects(),
            )
            return json_response(HTTPStatus.ACCEPTED, started)
        if kind and kind != "application/json":
            raise UnsupportedMediaType(
                "Send a JSON body (or none) for a presigned upload, "
                "or multipart/form-data with a 'file' part for a small direct upload."
            )
        try:
            request = UploadRequest.model_validate_json(body or b"{}")
        except ValidationError as exc:
            raise InvalidInput(describe_validation_errors(exc.errors())) from exc
        started = uploads.start_presigned(
            request.filename,
            request.size,
            limits=limits(),
            status=status_store(),
            objects=objects(),
        )
        return json_response(HTTPStatus.ACCEPTED, started)

    @app.get(f"{REGISTRY}/zip/status/<upload_id>", summary="An upload's status", tags=["zip"])
    def upload_status(upload_id: Annotated[str, Path()]) -> dict[str, Any]:
        return uploads.upload_status(upload_id, status=status_store())

    @app.get(
        f"{REGISTRY}/zip/download/<asset_id>",
        summary="Download an asset as a ZIP",
        tags=["zip"],
        responses={307: {"description": "Redirect to the signed stream"}},
    )
    def download_asset(asset_id: Annotated[str, Path()]) -> Response[Any]:
        settings = get_settings()
        base = settings.download_url or request_base(app.current_event.headers) + STREAM_PATH
        location = uploads.download_link(
            asset_id,
            base,
            store=assets_store(),
            key=signing_key(),
            ttl_seconds=settings.download_token_ttl_seconds,
        )
        return redirect(location)
