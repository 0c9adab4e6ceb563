"""The Assets Registry's read routes (spec 000), under /registry: by id, type, sub-type, tag
and API route, filter search, and an asset's files one by one (presigned GETs)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import (
    ETAG,
    AllVersions,
    Cursor,
    Limit,
    RedirectQuery,
    VersionQuery,
    all_versions,
    answers,
    head_answers,
    json_response,
    redirect,
    versioned_response,
)
from assets_core.logic import assets, content, files, lineage, versions
from assets_core.logic.audit import audit_query
from assets_core.models.content import ContentQuery, MissingContents
from assets_core.models.responses import (
    AssetFacets,
    AssetPage,
    AssetRecord,
    AuditPage,
    FilePage,
    LineageGraph,
    Redirect,
    VersionPage,
)
from assets_core.pagination import PageRequest
from assets_core.ports import DocumentStore, Versioned
from assets_core.stores.factory import (
    assets_store,
    audit_trail,
    blobs_store,
    lineage_store,
    objects,
    versions_store,
)

router = Router()


@router.get(
    "/assets", summary="List every asset", tags=["query"], responses=answers(200, AssetPage)
)
def list_assets(
    limit: Limit = None, cursor: Cursor = None, all_versions: AllVersions = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.list_all(page, store=_matched(all_versions)).body()


def _matched(every_version: str | None) -> DocumentStore:
    """Where a query looks: the assets' current versions, or (``all_versions=true``) every
    live version of every asset."""
    return versions_store() if all_versions(every_version) else assets_store()


def _version_response(asset_id: str, version: str | None) -> Response[Any]:
    """The asset (current version, with its ETag for a later If-Match) or the version that
    ``version`` names."""
    chosen = versions.read(asset_id, version, store=assets_store(), versions=versions_store())
    if chosen.current:
        return versioned_response(Versioned(chosen.document, chosen.revision))
    return json_response(HTTPStatus.OK, chosen.document)


@router.get(
    "/assets/<asset_id>",
    summary="Get an asset by id (?version=: a version or alias)",
    tags=["query"],
    responses=answers(200, AssetRecord, headers=ETAG),
)
def get_asset(asset_id: Annotated[str, Path()], version: VersionQuery = None) -> Response[Any]:
    return _version_response(asset_id, version)


@router.get(
    "/query/by-id/<asset_id>",
    summary="Get an asset by id (?version=: a version or alias)",
    tags=["query"],
    responses=answers(200, AssetRecord, headers=ETAG),
)
def get_by_id(asset_id: Annotated[str, Path()], version: VersionQuery = None) -> Response[Any]:
    return _version_response(asset_id, version)


@router.get(
    "/assets/<asset_id>/versions",
    summary="An asset's versions, newest first, with their aliases",
    tags=["versions"],
    responses=answers(200, VersionPage),
)
def list_versions(
    asset_id: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return versions.listing(asset_id, page, store=assets_store())


@router.get(
    "/assets/<asset_id>/versions/<version>",
    summary="One version of an asset, by version or alias",
    tags=["versions"],
    responses=answers(200, AssetRecord),
)
def get_version(asset_id: Annotated[str, Path()], version: Annotated[str, Path()]) -> Response[Any]:
    return _version_response(asset_id, version)


Direction = Annotated[
    str | None, Query(description="upstream, downstream or both (default both)", max_length=16)
]
Depth = Annotated[str | None, Query(description="Edges out from the version, 1-10 (default 1)")]


@router.get(
    "/assets/<asset_id>/lineage",
    summary="The lineage around the current (or ?version=) version: nodes and edges",
    tags=["lineage"],
    responses=answers(200, LineageGraph),
)
def get_lineage(
    asset_id: Annotated[str, Path()],
    version: VersionQuery = None,
    direction: Direction = None,
    depth: Depth = None,
) -> dict[str, Any]:
    return lineage.walk(
        asset_id,
        version,
        direction=direction,
        depth=depth,
        edges=lineage_store(),
        store=assets_store(),
        versions_store=versions_store(),
    )


Since = Annotated[str | None, Query(description="Records at or after this ISO-8601 time")]
Filter = Annotated[str | None, Query(max_length=1024)]


@router.get(
    "/audit",
    summary="The audit trail, newest first (assets-admin only)",
    tags=["audit"],
    responses=answers(200, AuditPage),
)
def get_audit(
    resource: Filter = None,
    id: Filter = None,
    actor: Filter = None,
    since: Since = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    query = audit_query(resource=resource, id=id, actor=actor, since=since)  # admins first
    page = PageRequest.parse(limit, cursor)
    return audit_trail().audit.find_page(query, page).body()


@router.get(
    "/query/by-type/<asset_type>",
    summary="Assets of a type",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_type(
    asset_type: Annotated[str, Path()],
    limit: Limit = None,
    cursor: Cursor = None,
    all_versions: AllVersions = None,
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_type(asset_type, page, store=_matched(all_versions)).body()


@router.get(
    "/query/by-sub-type/<sub_type>",
    summary="Assets of a sub-type",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_sub_type(
    sub_type: Annotated[str, Path()],
    limit: Limit = None,
    cursor: Cursor = None,
    all_versions: AllVersions = None,
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_sub_type(sub_type, page, store=_matched(all_versions)).body()


@router.get(
    "/query/by-tag/<tag>",
    summary="Assets with a tag",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_tag(
    tag: Annotated[str, Path()],
    limit: Limit = None,
    cursor: Cursor = None,
    all_versions: AllVersions = None,
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_tag(tag, page, store=_matched(all_versions)).body()


@router.get(
    "/assets/<asset_id>/files",
    summary="List an asset's stored files",
    tags=["files"],
    responses=answers(200, FilePage),
)
def list_files(
    asset_id: Annotated[str, Path()],
    limit: Limit = None,
    cursor: Cursor = None,
    version: VersionQuery = None,
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return files.listing(asset_id, page, version, catalog=_catalog(), objects=objects())


def _catalog() -> files.Catalog:
    return files.Catalog(assets_store(), versions_store())


FILES = "/files/"
FILE_LINK_SECONDS = 300


def _file_path(asset_id: str) -> str:
    """The file's path: API Gateway's {path+}, else what follows /files/ in the path."""
    event = router.current_event
    params = event.raw_event.get("pathParameters") or {}
    return str(params.get("path") or event.path.split(FILES, 1)[1])


FILE_HEADERS = {
    "Content-Length": "The file's size in bytes",
    "Content-Type": "Its media type",
    "Content-Disposition": "attachment, with the file's name",
    "Last-Modified": "When it was stored",
    "x-checksum-sha256": "The SHA-256 of its bytes, in hex",
}


@router.get(
    "/assets/<asset_id>/files/.+",
    summary="Download one file of an asset",
    tags=["files"],
    responses={
        **answers(307, Redirect, description="To a presigned, short-lived GET of the file"),
        **answers(200, Redirect, description="With ?redirect=false: that link, as JSON"),
    },
)
def get_file(
    asset_id: Annotated[str, Path()],
    version: VersionQuery = None,
    redirect_to: RedirectQuery = None,
) -> Response[Any]:
    location = files.location(
        asset_id,
        _file_path(asset_id),
        version,
        catalog=_catalog(),
        objects=objects(),
        expires_in=FILE_LINK_SECONDS,
    )
    return redirect(location, redirect_to)


@router.route(
    "/assets/<asset_id>/files/.+",
    method="HEAD",
    summary="Describe one file of an asset: size, type, name, sha256; no body",
    tags=["files"],
    responses=head_answers(FILE_HEADERS, "Never answered: every listed file is stored here"),
)
def head_file(asset_id: Annotated[str, Path()], version: VersionQuery = None) -> Response[Any]:
    described = files.descriptor(
        asset_id, _file_path(asset_id), version, catalog=_catalog(), objects=objects()
    )
    return Response(status_code=HTTPStatus.OK, body="", headers=described)


# The route contains slashes: API Gateway's {route+}, a catch-all rule here.
BY_API_ROUTE = "/query/by-api-route/"


@router.get(
    f"{BY_API_ROUTE}.+",
    summary="Assets with an API on a route",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_api_route(
    limit: Limit = None, cursor: Cursor = None, all_versions: AllVersions = None
) -> dict[str, Any]:
    event = router.current_event
    params = event.raw_event.get("pathParameters") or {}
    route = params.get("route") or event.path.split(BY_API_ROUTE, 1)[1]
    page = PageRequest.parse(limit, cursor)
    return assets.by_api_route(route, page, store=_matched(all_versions)).body()


@router.post(
    "/query/search",
    summary="Search with a MongoDB-style filter",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def search(
    query: Annotated[dict[str, Any], Body(description="A filter of allowed operators")],
    limit: Limit = None,
    cursor: Cursor = None,
    all_versions: AllVersions = None,
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.search(query, page, store=_matched(all_versions)).body()


@router.post(
    "/content/missing",
    summary="Which of these contents (by sha256) a bundle must still carry",
    tags=["files"],
    responses=answers(200, MissingContents),
)
def missing_contents(request: Annotated[ContentQuery, Body()]) -> dict[str, Any]:
    return {
        "missing": content.missing(request.sha256, blobs=blobs_store(), versions=versions_store())
    }


@router.post(
    "/query/facets",
    summary="Count the types, sub-types, tags and owners of the assets a filter matches",
    tags=["query"],
    responses=answers(200, AssetFacets),
)
def facets(
    query: Annotated[dict[str, Any], Body(description="A filter of allowed operators")],
    all_versions: AllVersions = None,
) -> dict[str, Any]:
    return assets.facets(query, store=_matched(all_versions))
