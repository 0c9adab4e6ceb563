"""How an asset's ZIP reaches the client: a short-lived signed link to the stream when the
ZIP is at most ``stream_max_bytes`` (a Lambda stream stops at 200 MB), else the archive
assembled in S3 by a presigned GET, or ``202 building`` while it is assembled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from assets_core.keys import archive_key, manifest_key
from assets_core.logic import archives, assets
from assets_core.logic.downloads import Manifest, manifest_of, new_manifest_name
from assets_core.ports import DocumentStore, ObjectStore
from assets_core.routes import REGISTRY
from assets_core.signing import signed_link

STREAM = "stream"
ARCHIVE = "archive"


@dataclass(frozen=True)
class Delivery:
    """A 307 to ``location``, or a 202 with ``body`` while the archive is built."""

    location: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Options:
    stream_base: str  # the download function's URL
    signing_key: str
    ttl_seconds: int
    stream_max_bytes: int


def status_url(asset_id: str) -> str:
    return f"{download_path(asset_id)}/status"


def download_path(asset_id: str) -> str:
    return f"{REGISTRY}/zip/download/{quote(asset_id, safe='')}"


def _manifest(asset_id: str, store: DocumentStore, objects: ObjectStore) -> Manifest:
    current = assets.read(asset_id, store=store)  # 404 for an asset the caller cannot see
    return manifest_of(current.document, current.revision, objects)


def deliver(
    asset_id: str, *, store: DocumentStore, objects: ObjectStore, options: Options
) -> Delivery:
    """Where the caller fetches the ZIP of the asset's current revision."""
    manifest = _manifest(asset_id, store, objects)
    if manifest.zip_size <= options.stream_max_bytes:
        key = manifest_key(new_manifest_name())
        objects.put(key, manifest.to_json(), "application/json")
        location = signed_link(
            options.stream_base,
            asset_id,
            manifest=key,
            key=options.signing_key,
            ttl_seconds=options.ttl_seconds,
        )
        return Delivery(location, {})
    archive = archives.request(objects, manifest)
    if archive.status == archives.READY:
        location = objects.presigned_get(
            archive_key(asset_id, manifest.revision),
            expires_in=options.ttl_seconds,
            filename=f"{asset_id}.zip",
            content_type="application/zip",
        )
        return Delivery(location, {})
    return Delivery(None, _status_body(manifest, archive.status))


def status(
    asset_id: str, *, store: DocumentStore, objects: ObjectStore, options: Options
) -> dict[str, Any]:
    """Whether the asset's ZIP can be fetched now: ``ready`` (a stream is always ready),
    ``building``, ``failed: <reason>`` (the next download request retries) or ``absent``
    (no download was requested yet)."""
    manifest = _manifest(asset_id, store, objects)
    if manifest.zip_size <= options.stream_max_bytes:
        return _status_body(manifest, archives.READY, STREAM)
    archive = archives.state(objects, asset_id, manifest.revision)
    return _status_body(manifest, archive.status)


def _status_body(manifest: Manifest, state: str, delivery: str = ARCHIVE) -> dict[str, Any]:
    return {
        "success": True,
        "asset_id": manifest.asset_id,
        "revision": manifest.revision,
        "status": state,
        "delivery": delivery,
        "size": manifest.zip_size,
        "status_url": status_url(manifest.asset_id),
        "download_url": download_path(manifest.asset_id),
    }
