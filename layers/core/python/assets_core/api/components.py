"""The Component registry's REST routes (spec 002), under /components/api."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import (
    ETAG,
    Cursor,
    Limit,
    answers,
    audited_in,
    if_match,
    json_response,
    versioned_response,
)
from assets_core.logic import components
from assets_core.logic.audit import COMPONENT, COMPONENTS, Change
from assets_core.models.component import (
    Component,
    QueryRequest,
    TypeRequest,
    UpdateRequest,
    UriRequest,
    UriSearchRequest,
)
from assets_core.models.responses import ComponentDeleted, ComponentPage, ComponentRecord
from assets_core.pagination import PageRequest
from assets_core.stores.factory import components_store

router = Router()
audited = audited_in(COMPONENTS)
TAGS = ["components"]


def operated_fields(operators: Any) -> tuple[str, ...]:
    """The top-level fields update operators name."""
    if not isinstance(operators, dict):
        return ()
    names = {
        str(path).split(".")[0]
        for fields in operators.values()
        if isinstance(fields, dict)
        for path in fields
    }
    return tuple(sorted(names))


def updated_change(uri: str, changes: tuple[str, ...]) -> Change:
    return Change("ComponentUpdated", COMPONENT, uri, changes=changes)


@router.post(
    "/api/registerComponent",
    summary="Register a component",
    tags=TAGS,
    responses=answers(201, ComponentRecord, 409),
)
def register_component(component: Annotated[Component, Body()]) -> Response[Any]:
    created = audited(
        lambda: components.register(component, store=components_store()),
        lambda document: Change("ComponentRegistered", COMPONENT, document["componentURI"]),
    )
    return json_response(HTTPStatus.CREATED, created)


@router.post(
    "/api/unregisterComponent",
    summary="Delete a component by URI",
    tags=TAGS,
    responses=answers(200, ComponentDeleted, 404),
)
def unregister_component(request: Annotated[UriRequest, Body()]) -> dict[str, Any]:
    return audited(
        lambda: components.unregister(request.uri, store=components_store()),
        Change("ComponentUnregistered", COMPONENT, request.uri),
    )


@router.post(
    "/api/updateComponent",
    summary="Update with MongoDB operators",
    tags=TAGS,
    responses=answers(200, ComponentRecord, 404, 409, headers=ETAG),
)
def update_component(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
    updated = audited(
        lambda: components.update(
            request.uri, request.data, store=components_store(), precondition=if_match(router)
        ),
        updated_change(request.uri, operated_fields(request.data)),
    )
    return versioned_response(updated)


@router.post(
    "/api/addMetadata",
    summary="Replace componentMetadata",
    tags=TAGS,
    responses=answers(200, ComponentRecord, 404, 409, headers=ETAG),
)
def add_metadata(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
    updated = audited(
        lambda: components.add_metadata(
            request.uri, request.data, store=components_store(), precondition=if_match(router)
        ),
        updated_change(request.uri, ("componentMetadata",)),
    )
    return versioned_response(updated)


@router.post(
    "/api/updateMetadata",
    summary="Update componentMetadata with operators",
    tags=TAGS,
    responses=answers(200, ComponentRecord, 404, 409, headers=ETAG),
)
def update_metadata(request: Annotated[UpdateRequest, Body()]) -> Response[Any]:
    updated = audited(
        lambda: components.update_metadata(
            request.uri, request.data, store=components_store(), precondition=if_match(router)
        ),
        updated_change(request.uri, ("componentMetadata",)),
    )
    return versioned_response(updated)


@router.post(
    "/api/getByType",
    summary="Components whose type matches a regex",
    tags=TAGS,
    responses=answers(200, ComponentPage),
)
def get_by_type(
    request: Annotated[TypeRequest, Body()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return components.by_type(request.typeString, page, store=components_store()).body()


@router.post(
    "/api/getByURI",
    summary="Components whose URI matches a regex",
    tags=TAGS,
    responses=answers(200, ComponentPage),
)
def get_by_uri(
    request: Annotated[UriSearchRequest, Body()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return components.by_uri(request.uriString, page, store=components_store()).body()


@router.post(
    "/api/query",
    summary="Components matching a MongoDB-style filter",
    tags=TAGS,
    responses=answers(200, ComponentPage),
)
def query(
    request: Annotated[QueryRequest, Body()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return components.query(request.query, page, store=components_store()).body()
