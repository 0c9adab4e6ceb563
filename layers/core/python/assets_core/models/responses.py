"""What the services answer, as models: each route documents its answers with them in its
OpenAPI document, and the schemathesis run checks every answer against them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assets_core.identity import Visibility
from assets_core.models.asset import Asset
from assets_core.models.assetdb import AssetVersion
from assets_core.models.component import Component
from assets_core.models.sessions import Session


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Stamped(BaseModel):
    """What the server writes into every record it stores (absent from records stored before
    it did)."""

    model_config = ConfigDict(defer_build=True)
    created_by: str | None = Field(default=None, description="The creator's token subject")
    created_at: str | None = Field(default=None, description="ISO-8601 UTC")
    updated_by: str | None = Field(default=None, description="The last writer's token subject")
    updated_at: str | None = Field(default=None, description="ISO-8601 UTC")


class ErrorDetail(_Answer):
    code: str = Field(description="A stable, upper-case code, e.g. ASSET_NOT_FOUND")
    message: str = Field(description="What went wrong and what to do about it")


class ErrorBody(_Answer):
    """Every error of every service."""

    success: Literal[False]
    error: ErrorDetail


class Health(_Answer):
    status: Literal["ok"]


class Redirect(_Answer):
    """The body of a 307; the Location header holds the same link."""

    location: str


class _Page(_Answer):
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end"
    )


# -- Assets Registry -----------------------------------------------------------------------


class AssetRecord(Asset, _Stamped):
    """An asset as stored: the client's fields and the server's."""


class AssetPage(_Page):
    items: list[AssetRecord]


class FacetValue(_Answer):
    value: Any = Field(description="A value of the field")
    count: int = Field(description="How many matching assets hold it")


class AssetFacets(_Answer):
    """The most frequent values (up to 20 each) over the assets a filter matches."""

    facets: dict[str, list[FacetValue]] = Field(
        description="asset_type, asset_sub_type, tag and owner: values, most frequent first"
    )
    paths: dict[str, str] = Field(description="The field each facet counts, to filter on")


class AssetDeleted(_Answer):
    success: Literal[True]
    asset_id: str
    deleted: Literal[True]
    restorable_until: str | None = Field(
        default=None, description="Until when POST .../restore brings it back (ISO-8601)"
    )
    purged: bool | None = Field(default=None, description="True when removed for good")


class VersionDeleted(AssetDeleted):
    asset_version: str


class VersionSummary(_Answer):
    asset_version: str
    created_at: str
    created_by: str
    file_count: int
    total_bytes: int
    aliases: list[str] = Field(description="Its aliases; the newest version has 'latest'")


class VersionPage(_Answer):
    asset_id: str
    items: list[VersionSummary]
    next_cursor: str | None = None


class LineageEdgeRecord(_Answer):
    from_: str = Field(alias="from", description="<asset_id>/<asset_version> of the version")
    to: str = Field(description="<asset_id>/<asset_version> it relates to (upstream)")
    relation: str
    created_at: str | None = None
    created_by: str | None = None


class LineageNode(_Answer):
    key: str
    asset_id: str
    asset_version: str
    asset_type: str | None = None
    deleted: bool | None = Field(default=None, description="True: deleted, until purged")


class LineageEdgeShown(_Answer):
    from_: str = Field(alias="from")
    to: str
    relation: str


class LineageGraph(_Answer):
    nodes: list[LineageNode]
    edges: list[LineageEdgeShown]
    truncated: bool | None = Field(
        default=None, description="True: the walk reached more than 2000 versions; ask less deep"
    )


class AuditRecord(BaseModel):
    """One audit record (registry records also carry asset_type, alias, upload_id...)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    audit_id: str
    at: str
    actor: str
    action: str
    service: str
    resource: str
    id: str
    version: str | None = None
    changes: list[str] | None = None
    seq: int


class AuditPage(_Answer):
    items: list[AuditRecord]
    next_cursor: str | None


class AliasSet(_Answer):
    asset_id: str
    alias: str
    asset_version: str


class AliasDeleted(_Answer):
    success: Literal[True]
    asset_id: str
    alias: str
    deleted: Literal[True]


class AssetCredentials(_Answer):
    asset_id: str
    asset_container_registry_creds_config: dict[str, Any] | None = Field(
        description="The credentials as written; null when the asset has none"
    )


class PresignedPost(_Answer):
    method: Literal["POST", "PUT"] = Field(
        description="POST: a form, every field first, the file last; PUT (a declared sha256): "
        "the body alone, with every header"
    )
    url: str
    fields: dict[str, str] | None = Field(default=None, description="POST: the form's fields")
    headers: dict[str, str] | None = Field(default=None, description="PUT: the headers to send")
    expires_at: str | None = None
    max_bytes: int | None = None


class UploadStarted(_Answer):
    success: Literal[True]
    upload_id: str
    status_url: str
    upload: PresignedPost | Session | None = Field(
        default=None,
        description="Where to send the bundle (absent for a direct upload): one request, or "
        "an upload session (method multipart) for a large one",
    )


class UploadStatus(_Answer):
    upload_id: str
    status: str = Field(
        description="queued, processing, success, or 'failed: <reason>'; an upload in parts: "
        "uploading, completing, aborted or expired before"
    )
    asset_id: str | None = None
    asset_version: str | None = None
    ingest_runs: int | None = Field(
        default=None, description="Once ingested: in how many runs (a large bundle needs more)"
    )


class FileEntry(_Answer):
    path: str = Field(description="Where the file sits in the asset (its ZIP member name)")
    asset_file_id: str | None = None
    size: int | None = Field(default=None, description="Bytes")
    sha256: str | None = Field(default=None, description="Hex SHA-256 of the bytes")
    mime_type: str
    last_modified: str | None = Field(default=None, description="When the asset last changed")


class FilePage(_Answer):
    asset_id: str
    asset_version: str
    revision: int
    items: list[FileEntry]
    next_cursor: str | None = None


class DownloadStatus(_Answer):
    success: bool = True
    asset_id: str
    revision: int = Field(description="The asset's revision (its ETag) the ZIP holds")
    status: str = Field(
        description="ready, building, 'failed: <reason>' (the next download request retries) "
        "or absent (no download requested yet)"
    )
    delivery: str = Field(description="stream (up to STREAM_MAX_BYTES) or archive")
    size: int = Field(description="The ZIP's size in bytes")
    status_url: str
    download_url: str


# -- Assets DB -----------------------------------------------------------------------------


class AssetObjectRecord(_Stamped, _Answer):
    asset_uri: str = Field(description="<name>:<version>-<tag>, or empty when one is missing")
    asset_name: str
    asset_id: str
    assets_db_id: str
    asset_version: AssetVersion
    asset_metadata: dict[str, Any]
    asset_public_url: str
    asset_file_info: dict[str, Any]
    asset_tags: list[str]
    visibility: Visibility | None = None


class AssetObjectUpload(_Answer):
    method: Literal["POST", "PUT"]
    url: str
    fields: dict[str, str] | None = None
    headers: dict[str, str] | None = None


class PresignedAssetRecord(AssetObjectRecord):
    upload: AssetObjectUpload | Session


class AssetObjectPage(_Page):
    items: list[AssetObjectRecord]


class AssetObjectDeleted(_Answer):
    success: Literal[True]
    asset_uri: str
    asset_id: str
    deleted: Literal[True]


# -- Assets DB registry --------------------------------------------------------------------


class RegistryEntry(_Stamped, _Answer):
    asset_registry_id: str
    asset_registry_name: str
    asset_registry_metadata: dict[str, Any]
    asset_registry_tags: list[str]
    asset_registry_public_url: str


class RegistryPage(_Page):
    items: list[RegistryEntry]


class RegistryDeleted(_Answer):
    success: Literal[True]
    asset_registry_id: str
    deleted: Literal[True]


class HealthCheck(_Answer):
    asset_registry_id: str
    healthy: bool
    status_code: int | None
    latency_ms: int
    checked_at: str
    error: str | None = None


# -- Component registry --------------------------------------------------------------------


class ComponentRecord(Component, _Stamped):
    componentURI: str  # always set in what is stored
    createdAt: str
    lastModifiedAt: str


class ComponentPage(_Page):
    items: list[ComponentRecord]


class ComponentDeleted(_Answer):
    success: Literal[True]
    uri: str
    deleted: Literal[True]
