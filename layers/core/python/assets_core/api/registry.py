"""Spec 000's REST API groups: write (create, update, delete) and query."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import Cursor, Limit, if_match, json_response, versioned_response
from assets_core.logic import assets
from assets_core.models.asset import Asset, AssetUpdate
from assets_core.pagination import PageRequest
from assets_core.ports import etag_of
from assets_core.routes import REGISTRY
from assets_core.stores.registry import assets_store, objects


def register_write(app: APIGatewayHttpResolver | Router) -> None:
    """POST /assets, PUT and DELETE /assets/{asset_id}."""

    @app.post(f"{REGISTRY}/assets", summary="Register an asset", tags=["assets"])
    def create_asset(asset: Annotated[Asset, Body()]) -> Response[Any]:
        created = assets.create(asset, store=assets_store())
        return json_response(HTTPStatus.CREATED, created, {"ETag": etag_of(1)})

    @app.put(
        f"{REGISTRY}/assets/<asset_id>",
        summary="Update fields of an asset (If-Match: its ETag, else 409 when it changed)",
        tags=["assets"],
    )
    def update_asset(
        asset_id: Annotated[str, Path()], patch: Annotated[AssetUpdate, Body()]
    ) -> Response[Any]:
        updated = assets.update(asset_id, patch, store=assets_store(), precondition=if_match(app))
        return versioned_response(updated)

    @app.delete(f"{REGISTRY}/assets/<asset_id>", summary="Delete an asset", tags=["assets"])
    def delete_asset(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
        return assets.delete(
            asset_id, store=assets_store(), files=objects(), precondition=if_match(app)
        )


def register_query(app: APIGatewayHttpResolver | Router) -> None:
    """The read routes: by id, by type, sub-type, tag and API route, and filter search."""

    @app.get(f"{REGISTRY}/assets", summary="List every asset", tags=["query"])
    def list_assets(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
        return assets.list_all(PageRequest.parse(limit, cursor), store=assets_store()).body()

    @app.get(f"{REGISTRY}/assets/<asset_id>", summary="Get an asset by id", tags=["query"])
    def get_asset(asset_id: Annotated[str, Path()]) -> Response[Any]:
        return versioned_response(assets.read(asset_id, store=assets_store()))

    @app.get(f"{REGISTRY}/query/by-id/<asset_id>", summary="Get an asset by id", tags=["query"])
    def get_by_id(asset_id: Annotated[str, Path()]) -> Response[Any]:
        return versioned_response(assets.read(asset_id, store=assets_store()))

    @app.get(f"{REGISTRY}/query/by-type/<asset_type>", summary="Assets of a type", tags=["query"])
    def get_by_type(
        asset_type: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return assets.by_type(asset_type, page, store=assets_store()).body()

    @app.get(
        f"{REGISTRY}/query/by-sub-type/<sub_type>", summary="Assets of a sub-type", tags=["query"]
    )
    def get_by_sub_type(
        sub_type: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return assets.by_sub_type(sub_type, page, store=assets_store()).body()

    @app.get(f"{REGISTRY}/query/by-tag/<tag>", summary="Assets with a tag", tags=["query"])
    def get_by_tag(
        tag: Annotated[str, Path()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return assets.by_tag(tag, page, store=assets_store()).body()

    # The route contains slashes: API Gateway's {route+}, a catch-all rule here.
    by_route_prefix = f"{REGISTRY}/query/by-api-route/"

    @app.get(f"{by_route_prefix}.+", summary="Assets with an API on a route", tags=["query"])
    def get_by_api_route(limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
        event = app.current_event
        params = event.raw_event.get("pathParameters") or {}
        route = params.get("route") or event.path[len(by_route_prefix) :]
        page = PageRequest.parse(limit, cursor)
        return assets.by_api_route(route, page, store=assets_store()).body()

    @app.post(
        f"{REGISTRY}/query/search", summary="Search with a MongoDB-style filter", tags=["query"]
    )
    def search(
        query: Annotated[dict[str, Any], Body(description="A filter of allowed operators")],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return assets.search(query, page, store=assets_store()).body()


REGISTRY_REST = (register_write, register_query)
