"""The files of an asset, one by one, with no bytes through the API: a listing from the
stored document, a presigned GET of one file (named as its path ends), and its descriptor
from the object store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from assets_core.errors import InvalidInput, NotFound
from assets_core.keys import content_disposition
from assets_core.logic import versions as versioning
from assets_core.logic.downloads import stored_files
from assets_core.logic.names import unsafe_name
from assets_core.pagination import Page, PageRequest, take_page
from assets_core.ports import DocumentStore, ObjectStore

OCTET_STREAM = "application/octet-stream"


def _described(item: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": item["path"],
        "asset_file_id": item.get("asset_file_id"),
        "size": item.get("size"),
        "sha256": item.get("sha256"),
        "mime_type": item.get("mime_type") or OCTET_STREAM,
        "last_modified": document.get("updated_at") or document.get("created_at"),
    }


@dataclass(frozen=True)
class Catalog:
    """Where an asset's versions are read: the assets (current versions) and every version."""

    assets: DocumentStore
    versions: DocumentStore

    def read(self, asset_id: str, version: str | None) -> versioning.VersionRead:
        return versioning.read(asset_id, version, store=self.assets, versions=self.versions)


def listing(
    asset_id: str,
    page: PageRequest,
    version: str | None = None,
    *,
    catalog: Catalog,
    objects: ObjectStore,
) -> dict[str, Any]:
    """The stored files of the asset's current version (or the one ``version`` names), by
    path, a page at a time."""
    current = catalog.read(asset_id, version)
    items = sorted(stored_files(current.document, objects), key=lambda item: item["path"])

    def after_cursor() -> Iterator[dict[str, Any]]:
        for item in items:
            if page.after is None or item["path"] > page.after:
                yield _described(item, current.document)

    found: Page = take_page(after_cursor(), page.limit, "path")
    return {
        "asset_id": asset_id,
        "asset_version": current.version,
        "revision": current.revision,
        **found.body(),
    }


@dataclass(frozen=True)
class StoredFile:
    key: str
    path: str
    mime_type: str
    sha256: str | None

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def find(
    asset_id: str, path: str, version: str | None, *, catalog: Catalog, objects: ObjectStore
) -> StoredFile:
    """One stored file of the asset's version by its path: 400 for a path that could escape a
    folder, 404 for an unknown asset, version or path."""
    reason = unsafe_name(path)
    if reason is not None:
        raise InvalidInput(f"Not a file path: {reason}.", code="INVALID_FILE_PATH")
    current = catalog.read(asset_id, version)
    for item in stored_files(current.document, objects):
        if item["path"] == path:
            return StoredFile(
                key=item["key"],
                path=path,
                mime_type=str(item.get("mime_type") or OCTET_STREAM),
                sha256=item.get("sha256") if isinstance(item.get("sha256"), str) else None,
            )
    raise NotFound(f"The asset '{asset_id}' has no stored file '{path}'.", code="FILE_NOT_FOUND")


def location(
    asset_id: str,
    path: str,
    version: str | None = None,
    *,
    catalog: Catalog,
    objects: ObjectStore,
    expires_in: int,
) -> str:
    """A short-lived presigned GET of exactly that file, answered with its name."""
    stored = find(asset_id, path, version, catalog=catalog, objects=objects)
    return objects.presigned_get(
        stored.key, expires_in=expires_in, filename=stored.filename, content_type=stored.mime_type
    )


def descriptor(
    asset_id: str,
    path: str,
    version: str | None = None,
    *,
    catalog: Catalog,
    objects: ObjectStore,
) -> dict[str, str]:
    """What ``HEAD`` answers of the file: size and time as the object store holds it, its
    type, name and SHA-256 as the registry recorded them."""
    stored = find(asset_id, path, version, catalog=catalog, objects=objects)
    head = objects.head(stored.key)
    if head is None:
        raise NotFound(f"The file '{path}' is no longer stored.", code="FILE_NOT_FOUND")
    headers = {
        "Content-Length": str(head.size),
        "Content-Type": stored.mime_type,
        "Content-Disposition": content_disposition(stored.filename),
        "Last-Modified": format_datetime(head.last_modified.astimezone(UTC), usegmt=True),
    }
    if stored.sha256:
        headers["x-checksum-sha256"] = stored.sha256
    return headers
