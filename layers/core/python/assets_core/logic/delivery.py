"""How an asset's ZIP reaches the client: a short-lived signed link to the stream when the
ZIP is at most ``stream_max_bytes`` (a Lambda stream stops at 200 MB), else the archive
assembled in S3 by a presigned GET, or ``202 building`` while it is assembled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from assets_core.keys import archive_key, manifest_key
from assets_core.logic import archives
from assets_core.logic.downloads import Manifest, manifest_of, new_manifest_name
from assets_core.logic.files import Catalog
from assets_core.ports import ObjectStore
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


def status_url(asset_id: str, version: str | None = None) -> str:
    return _with_version(f"{download_path(asset_id)}/status", version)


def download_path(asset_id: str, version: str | None = None) -> str:
    return _with_version(f"{REGISTRY}/zip/download/{quote(asset_id, safe='')}", version)


def _with_version(path: str, version: str | None) -> str:
    return path if version is None else f"{path}?version={quote(version, safe='')}"


def _manifest(
    asset_id: str, version: str | None, catalog: Catalog, objects: ObjectStore
) -> tuple[Manifest, str | None]:
    """The manifest of the version asked for (404 for an asset or version the caller cannot
    see), and the version to name in links (None for the current one)."""
    chosen = catalog.read(asset_id, version)
    label = chosen.label
    manifest = manifest_of(chosen.document, chosen.revision, objects, label=label)
    return manifest, None if chosen.current else chosen.version


def deliver(
    asset_id: str,
    version: str | None = None,
    *,
    catalog: Catalog,
    objects: ObjectStore,
    options: Options,
) -> Delivery:
    """Where the caller fetches the ZIP of the asset's current version (or of the one
    ``version`` names)."""
    manifest, named = _manifest(asset_id, version, catalog, objects)
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
            archive_key(asset_id, manifest.label),
            expires_in=options.ttl_seconds,
            filename=f"{asset_id}.zip",
            content_type="application/zip",
        )
        return Delivery(location, {})
    return Delivery(None, _status_body(manifest, named, archive.status))


def status(
    asset_id: str,
    version: str | None = None,
    *,
    catalog: Catalog,
    objects: ObjectStore,
    options: Options,
) -> dict[str, Any]:
    """Whether the asset's ZIP can be fetched now: ``ready`` (a stream is always ready),
    ``building``, ``failed: <reason>`` (the next download request retries) or ``absent``
    (no download was requested yet)."""
    manifest, named = _manifest(asset_id, version, catalog, objects)
    if manifest.zip_size <= options.stream_max_bytes:
        return _status_body(manifest, named, archives.READY, STREAM)
    archive = archives.state(objects, asset_id, manifest.label)
    return _status_body(manifest, named, archive.status)


def _status_body(
    manifest: Manifest, version: str | None, state: str, delivery: str = ARCHIVE
) -> dict[str, Any]:
    return {
        "success": True,
        "asset_id": manifest.asset_id,
        "revision": manifest.revision,
        "status": state,
        "delivery": delivery,
        "size": manifest.zip_size,
        "status_url": status_url(manifest.asset_id, version),
        "download_url": download_path(manifest.asset_id, version),
    }
