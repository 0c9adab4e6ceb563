"""Download: checks the signed link and streams the asset's ZIP (a function URL in AWS, with
``InvokeMode: RESPONSE_STREAM``; ``runtime.py`` speaks the streaming protocol)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from assets_core.errors import AppError, InternalError, NotFound
from assets_core.logic import assets
from assets_core.logic.downloads import zip_stream
from assets_core.observability import counted_stream, logger
from assets_core.routes import DOWNLOAD, READ_ONLY
from assets_core.signing import check_link, signing_key
from assets_core.stores.documents import read_only_calls
from assets_core.stores.factory import assets_store
from assets_core.stores.objects import object_store


@dataclass
class StreamedResponse:
    """What a streaming function answers: status and headers first, then the body's chunks."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Iterable[bytes] = ()

    def prelude(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": self.headers}


def _error(exc: AppError) -> StreamedResponse:
    return StreamedResponse(
        int(exc.status),
        {"Content-Type": "application/json", "Cache-Control": "no-store"},
        [json.dumps(exc.body()).encode()],
    )


def _params(event: dict[str, Any]) -> dict[str, str]:
    params = dict(parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True))
    params.update(event.get("queryStringParameters") or {})
    return params


def stream(event: dict[str, Any], context: Any = None) -> StreamedResponse:
    """Answer one download request: 403 for a missing, forged or expired link, 404 for an
    unknown asset, else 200 with the ZIP streamed as it is built."""
    request = event.get("requestContext") or {}
    logger.set_correlation_id(request.get("requestId"))
    method = request.get("http", {}).get("method", "GET")
    if method not in ("GET", "HEAD"):
        return _error(AppError("Downloads are fetched with GET.", code="METHOD_NOT_ALLOWED"))
    try:
        asset_id, version = check_link(_params(event), key=signing_key())
        with read_only_calls(DOWNLOAD.database == READ_ONLY):
            asset = assets.get(asset_id, store=assets_store())
        if str(asset.get("asset_version") or "") != version:
            raise NotFound(
                f"This link is for version '{version}' of '{asset_id}', which is no longer "
                "the asset's; request the download again.",
                code="DOWNLOAD_VERSION_CHANGED",
            )
    except AppError as exc:
        return _error(exc)
    except Exception:
        logger.exception("Download failed before streaming")
        return _error(
            InternalError("The download failed unexpectedly; the error was logged. Try again.")
        )
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": f'attachment; filename="{asset_id}.zip"',
        "Cache-Control": "no-store",
    }
    body: Iterable[bytes] = (
        ()
        if method == "HEAD"
        else counted_stream(zip_stream(asset, object_store()), metric="DownloadBytes")
    )
    return StreamedResponse(200, headers, body)
