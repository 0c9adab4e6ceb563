"""The Assets Registry's read routes (spec 000), under /registry: by id, type, sub-type, tag
and API route, filter search, and an asset's files one by one (presigned GETs)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import (
    ETAG,
    Cursor,
    Limit,
    answers,
    head_answers,
    redirect,
    versioned_response,
)
from assets_core.logic import assets, files
from assets_core.models.responses import AssetPage, AssetRecord, FilePage, Redirect
from assets_core.pagination import PageRequest
from assets_core.stores.factory import assets_store, objects

router = Router()


@router.get(
    "/assets", summary="List every asset", tags=["query"], responses=answers(200, AssetPage)
)
def list_assets(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    return assets.list_all(PageRequest.parse(limit, cursor), store=assets_store()).body()


@router.get(
    "/assets/<asset_id>",
    summary="Get an asset by id",
    tags=["query"],
    responses=answers(200, AssetRecord, headers=ETAG),
)
def get_asset(asset_id: Annotated[str, Path()]) -> Response[Any]:
    return versioned_response(assets.read(asset_id, store=assets_store()))


@router.get(
    "/query/by-id/<asset_id>",
    summary="Get an asset by id",
    tags=["query"],
    responses=answers(200, AssetRecord, headers=ETAG),
)
def get_by_id(asset_id: Annotated[str, Path()]) -> Response[Any]:
    return versioned_response(assets.read(asset_id, store=assets_store()))


@router.get(
    "/query/by-type/<asset_type>",
    summary="Assets of a type",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_type(
    asset_type: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_type(asset_type, page, store=assets_store()).body()


@router.get(
    "/query/by-sub-type/<sub_type>",
    summary="Assets of a sub-type",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_sub_type(
    sub_type: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_sub_type(sub_type, page, store=assets_store()).body()


@router.get(
    "/query/by-tag/<tag>",
    summary="Assets with a tag",
    tags=["query"],
    responses=answers(200, AssetPage),
)
def get_by_tag(
    tag: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.by_tag(tag, page, store=assets_store()).body()


@router.get(
    "/assets/<asset_id>/files",
    summary="List an asset's stored files",
    tags=["files"],
    responses=answers(200, FilePage),
)
def list_files(
    asset_id: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return files.listing(asset_id, page, store=assets_store(), objects=objects())


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
    responses=answers(307, Redirect, description="To a presigned, short-lived GET of the file"),
)
def get_file(asset_id: Annotated[str, Path()]) -> Response[Any]:
    location = files.location(
        asset_id,
        _file_path(asset_id),
        store=assets_store(),
        objects=objects(),
        expires_in=FILE_LINK_SECONDS,
    )
    return redirect(location)


@router.route(
    "/assets/<asset_id>/files/.+",
    method="HEAD",
    summary="Describe one file of an asset: size, type, name, sha256; no body",
    tags=["files"],
    responses=head_answers(FILE_HEADERS, "Never answered: every listed file is stored here"),
)
def head_file(asset_id: Annotated[str, Path()]) -> Response[Any]:
    described = files.descriptor(
        asset_id, _file_path(asset_id), store=assets_store(), objects=objects()
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
def get_by_api_route(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    event = router.current_event
    params = event.raw_event.get("pathParameters") or {}
    route = params.get("route") or event.path.split(BY_API_ROUTE, 1)[1]
    page = PageRequest.parse(limit, cursor)
    return assets.by_api_route(route, page, store=assets_store()).body()


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
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return assets.search(query, page, store=assets_store()).body()
