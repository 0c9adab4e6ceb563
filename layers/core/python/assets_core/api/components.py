"""Spec 002's REST API under /components."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import Cursor, Limit, if_match, json_response, versioned_response
from assets_core.logic import components
from assets_core.models.component import (
    Component,
    QueryRequest,
    TypeRequest,
    UpdateRequest,
    UriRequest,
    UriSearchRequest,
)
from assets_core.pagination import PageRequest
from assets_core.routes import COMPONENTS
from assets_core.stores.registry import components_store


def register_components(app: APIGatewayHttpResolver | Router) -> None:
    api = f"{COMPONENTS}/api"
    tags = ["components"]

    @app.post(f"{api}/registerComponent", summary="Register a component", tags=tags)
    def register_component(component: Annotated[Component, Body()]) -> Response[Any]:
        created = components.register(component, store=components_store())
        return json_response(HTTPStatus.CREATED, created)

    @app.post(f"{api}/unregisterComponent", summary="Delete a component by URI", tags=tags)
    def unregister_component(request: Annotated[UriRequest, Body()]) -> dict[str, Any]:
        return components.unregister(request.uri, store=components_store())

    @app.post(f"{api}/updateComponent", summary="Update with MongoDB operators", tags=tags)
    def update_component(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
        updated = components.update(
            request.uri, request.data, store=components_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.post(f"{api}/addMetadata", summary="Replace componentMetadata", tags=tags)
    def add_metadata(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
        updated = components.add_metadata(
            request.uri, request.data, store=components_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.post(f"{api}/updateMetadata", summary="Update componentMetadata with operators", tags=tags)
    def update_metadata(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
        updated = components.update_metadata(
            request.uri, request.data, store=components_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.post(f"{api}/getByType", summary="Components whose type matches a regex", tags=tags)
    def get_by_type(
        request: Annotated[TypeRequest, Body()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return components.by_type(request.typeString, page, store=components_store()).body()

    @app.post(f"{api}/getByURI", summary="Components whose URI matches a regex", tags=tags)
    def get_by_uri(
        request: Annotated[UriSearchRequest, Body()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return components.by_uri(request.uriString, page, store=components_store()).body()

    @app.post(f"{api}/query", summary="Components matching a MongoDB-style filter", tags=tags)
    def query(
        request: Annotated[QueryRequest, Body()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return components.query(request.query, page, store=components_store()).body()


COMPONENTS_REST = (register_components,)
