"""The Assets Registry's ZIP routes (spec 000), under /registry: upload (presigned, or small
and direct), upload status, and download (a redirect to the stream or to the archive
assembled in S3) with its status."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import Router
from pydantic import ConfigDict, Field

from assets_core.api.http import (
    RedirectQuery,
    VersionQuery,
    answers,
    form_or_json_body,
    json_response,
    redirect,
    request_base,
    validated_json,
)
from assets_core.api.multipart import upload_body
from assets_core.api.sessions import add_session_routes, session_limits
from assets_core.config import get_settings
from assets_core.identity import current_caller
from assets_core.logic import delivery, uploads
from assets_core.logic.files import Catalog
from assets_core.models.responses import DownloadStatus, Redirect, UploadStarted, UploadStatus
from assets_core.models.sessions import SessionOptions
from assets_core.routes import DOWNLOAD
from assets_core.signing import signing_key
from assets_core.stores.factory import (
    assets_store,
    objects,
    upload_status_store,
    versions_store,
)

UPLOAD = "/zip/upload"  # the route that also takes a small bundle as a form


class UploadRequest(SessionOptions):
    """The optional JSON body of a presigned upload request (or of an upload session's)."""

    model_config = ConfigDict(extra="forbid")
    filename: str | None = Field(default=None, max_length=1024)
    size: int | None = Field(default=None, ge=1)
    sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="The bundle's SHA-256 (64 lower-case hex digits): the object store then "
        "refuses any other bytes, and ingest checks it again",
    )


def limits() -> uploads.UploadLimits:
    settings = get_settings()
    return uploads.UploadLimits(
        max_bytes=settings.upload_max_bytes,
        direct_max_bytes=settings.direct_upload_max_bytes,
        url_expiry_seconds=settings.upload_url_expiry_seconds,
    )


router = Router()
add_session_routes(router, uploads.SESSIONS, "/uploads", ["uploads"])


@router.post(
    UPLOAD,
    summary="Upload a ZIP bundle",
    tags=["zip"],
    openapi_extensions=form_or_json_body(
        {"file": {"type": "string", "format": "binary", "description": "A small bundle"}},
        UploadRequest,
    ),
    responses=answers(
        202, UploadStarted, description="Accepted: the upload's id, and where to send the bundle"
    ),
)
def upload_bundle() -> Response[Any]:
    event = router.current_event
    request_id = (event.raw_event.get("requestContext") or {}).get("requestId")
    body = upload_body(
        event.raw_event,
        unsupported="Send a JSON body (or none) for a presigned upload, "
        "or multipart/form-data with a 'file' part for a small direct upload.",
    )
    if body.parts is not None:
        part = body.parts.get("file")
        started = uploads.start_direct(
            part.filename if part else None,
            part.data if part else None,
            limits=limits(),
            status=upload_status_store(),
            objects=objects(),
            uploader=current_caller(),
            correlation_id=request_id,
        )
        return json_response(HTTPStatus.ACCEPTED, started)
    request = validated_json(UploadRequest, body.json or b"{}")
    started = uploads.start_presigned(
        request.filename,
        request.size,
        sha256=request.sha256,
        options=request,
        limits=limits(),
        session_limits=session_limits(),
        status=upload_status_store(),
        objects=objects(),
        uploader=current_caller(),
        correlation_id=request_id,
    )
    return json_response(HTTPStatus.ACCEPTED, started)


@router.get(
    "/zip/status/<upload_id>",
    summary="An upload's status",
    tags=["zip"],
    responses=answers(200, UploadStatus),
)
def upload_status(upload_id: Annotated[str, Path()]) -> dict[str, Any]:
    return uploads.upload_status(upload_id, status=upload_status_store(), caller=current_caller())


def delivery_options() -> delivery.Options:
    settings = get_settings()
    base = settings.download_url or request_base(router.current_event.headers) + DOWNLOAD.local_path
    return delivery.Options(
        stream_base=base,
        signing_key=signing_key(),
        ttl_seconds=settings.download_token_ttl_seconds,
        stream_max_bytes=settings.stream_max_bytes,
    )


@router.get(
    "/zip/download/<asset_id>",
    summary="Download an asset as a ZIP",
    tags=["zip"],
    responses={
        **answers(
            307,
            Redirect,
            description="To a signed, short-lived link that streams the ZIP (up to "
            "STREAM_MAX_BYTES), or to a presigned GET of the ZIP assembled in S3",
        ),
        **answers(202, DownloadStatus, description="A large ZIP is being assembled: poll"),
        **answers(200, Redirect, description="With ?redirect=false: that link, as JSON"),
    },
)
def download_asset(
    asset_id: Annotated[str, Path()],
    version: VersionQuery = None,
    redirect_to: RedirectQuery = None,
) -> Response[Any]:
    answer = delivery.deliver(
        asset_id,
        version,
        catalog=Catalog(assets_store(), versions_store()),
        objects=objects(),
        options=delivery_options(),
    )
    if answer.location is None:
        return json_response(HTTPStatus.ACCEPTED, answer.body, {"Cache-Control": "no-store"})
    return redirect(answer.location, redirect_to)


@router.get(
    "/zip/download/<asset_id>/status",
    summary="Whether an asset's ZIP can be downloaded now",
    tags=["zip"],
    responses=answers(200, DownloadStatus),
)
def download_status(
    asset_id: Annotated[str, Path()], version: VersionQuery = None
) -> Response[Any]:
    body = delivery.status(
        asset_id,
        version,
        catalog=Catalog(assets_store(), versions_store()),
        objects=objects(),
        options=delivery_options(),
    )
    return json_response(HTTPStatus.OK, body, {"Cache-Control": "no-store"})
