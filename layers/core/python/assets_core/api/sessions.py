"""The routes of upload sessions, the same under each service that opens them (the registry's
bundles, the Assets DB's files): read one (the parts received, to resume), sign parts,
complete, abort."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import answers, json_response
from assets_core.config import get_settings
from assets_core.identity import current_caller
from assets_core.logic import sessions
from assets_core.models.sessions import CompleteRequest, PartsRequest, Session, SignedParts
from assets_core.stores.factory import objects, upload_status_store


def session_limits() -> sessions.SessionLimits:
    settings = get_settings()
    return sessions.SessionLimits(
        threshold_bytes=settings.multipart_threshold_bytes,
        max_bytes=settings.upload_session_max_bytes,
        part_bytes=settings.upload_part_bytes,
        ttl_seconds=settings.upload_session_ttl,
        url_expiry_seconds=settings.upload_url_expiry_seconds,
    )


def add_session_routes(router: Router, place: sessions.Place, path: str, tags: list[str]) -> None:
    """Serve ``place``'s sessions at ``path`` (``/uploads``, under the router's prefix)."""

    def found(upload_id: str) -> sessions.Found:
        return sessions.find(
            upload_id, place=place, status=upload_status_store(), caller=current_caller()
        )

    @router.get(
        f"{path}/<upload_id>",
        summary="An upload session: the parts received and missing (to resume)",
        tags=tags,
        responses=answers(200, Session, 404),
    )
    def get_session(upload_id: Annotated[str, Path()]) -> dict[str, Any]:
        return sessions.describe(
            found(upload_id), place=place, objects=objects(), status=upload_status_store()
        )

    @router.post(
        f"{path}/<upload_id>/parts",
        summary="Sign parts of an upload session, each for its declared checksum",
        tags=tags,
        responses=answers(200, SignedParts, 404, 409),
    )
    def sign_parts(
        upload_id: Annotated[str, Path()], request: Annotated[PartsRequest, Body()]
    ) -> dict[str, Any]:
        return sessions.sign_parts(
            found(upload_id),
            request.parts,
            limits=session_limits(),
            objects=objects(),
            status=upload_status_store(),
        )

    @router.post(
        f"{path}/<upload_id>/complete",
        summary="Complete an upload session: every part checked, then assembled",
        tags=tags,
        responses=answers(202, Session, 404, 409),
    )
    def complete_session(
        upload_id: Annotated[str, Path()], request: Annotated[CompleteRequest, Body()]
    ) -> Response[Any]:
        completed = sessions.complete(
            found(upload_id),
            request.parts,
            place=place,
            objects=objects(),
            status=upload_status_store(),
        )
        return json_response(HTTPStatus.ACCEPTED, completed)

    @router.delete(
        f"{path}/<upload_id>",
        summary="Abort an upload session and remove its parts",
        tags=tags,
        responses=answers(200, Session, 404, 409),
    )
    def abort_session(upload_id: Annotated[str, Path()]) -> dict[str, Any]:
        return sessions.abort(
            found(upload_id), place=place, objects=objects(), status=upload_status_store()
        )
