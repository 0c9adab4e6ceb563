"""Download: checks the signed link and streams the asset's ZIP (a function URL in AWS, with
``InvokeMode: RESPONSE_STREAM``; ``runtime.py`` speaks the streaming protocol)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from assets_core.errors import AppError, Forbidden, InternalError, NotFound
from assets_core.keys import MANIFEST_KEY
from assets_core.logic.downloads import MANIFEST_MAX_BYTES, Manifest, ManifestInvalid, zip_stream
from assets_core.observability import counted_stream, logger
from assets_core.signing import check_link, signing_key
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
    """Answer one download request: 403 for a missing, forged or expired link, 404 when what
    it names is gone, else 200 with the ZIP streamed as it is built. Only the object store is
    read: the manifest that the link names, then the files it lists."""
    request = event.get("requestContext") or {}
    logger.set_correlation_id(request.get("requestId"))
    method = request.get("http", {}).get("method", "GET")
    if method not in ("GET", "HEAD"):
        return _error(AppError("Downloads are fetched with GET.", code="METHOD_NOT_ALLOWED"))
    try:
        asset_id, manifest_key = check_link(_params(event), key=signing_key())
        manifest = _manifest(asset_id, manifest_key)
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
        else counted_stream(zip_stream(manifest, object_store()), metric="DownloadBytes")
    )
    return StreamedResponse(200, headers, body)


def _manifest(asset_id: str, key: str) -> Manifest:
    """The manifest a checked link names; 404 once it, or the asset's files, are gone."""
    if not MANIFEST_KEY.fullmatch(key):
        raise Forbidden("The download link names no manifest.", code="DOWNLOAD_TOKEN_INVALID")
    objects = object_store()
    data = objects.get(key, MANIFEST_MAX_BYTES)
    gone = NotFound(
        f"This download of '{asset_id}' is no longer available; request the download again.",
        code="DOWNLOAD_GONE",
    )
    if data is None:
        raise gone
    try:
        manifest = Manifest.from_json(data)
    except ManifestInvalid:
        logger.exception("A signed link names a manifest that does not parse")
        raise InternalError("The download's manifest is damaged; request it again.") from None
    if manifest.asset_id != asset_id:
        raise Forbidden("The download link names no manifest.", code="DOWNLOAD_TOKEN_INVALID")
    # Deleting an asset removes its files together: the first one tells whether they are.
    if manifest.files and objects.head(manifest.files[0].key or "") is None:
        raise gone
    return manifest
