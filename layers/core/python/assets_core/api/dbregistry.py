"""The Assets DB registry's routes (spec 001), under /dbregistry: the directory of Assets DBs."""

from __future__ import annotations

from functools import partial
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
    audited_in,
    if_match,
    json_response,
    versioned_response,
)
from assets_core.config import get_settings
from assets_core.logic import dbregistry
from assets_core.logic.audit import DBREGISTRY, REGISTRATION, Change
from assets_core.logic.dbregistry import KEY
from assets_core.models.assetdb import AssetsDBRegistryFields, AssetsDBRegistryUpdate
from assets_core.models.responses import (
    HealthCheck,
    RegistryDeleted,
    RegistryEntry,
    RegistryPage,
)
from assets_core.pagination import PageRequest
from assets_core.probe import probe
from assets_core.stores.factory import dbregistry_store

router = Router()
audited = audited_in(DBREGISTRY)
TAGS = ["dbregistry"]


@router.post(
    "/asset_registry",
    summary="Register an Assets DB",
    tags=TAGS,
    responses=answers(201, RegistryEntry),
)
def create(fields: Annotated[AssetsDBRegistryFields, Body()]) -> Response[Any]:
    created = audited(
        lambda: dbregistry.create(fields, store=dbregistry_store()),
        lambda document: Change("RegistryCreated", REGISTRATION, document[KEY]),
    )
    return json_response(HTTPStatus.CREATED, created)


@router.get(
    "/asset_registry/<registry_id>",
    summary="Get an entry",
    tags=TAGS,
    responses=answers(200, RegistryEntry, headers=ETAG),
)
def get(registry_id: Annotated[str, Path()]) -> Response[Any]:
    return versioned_response(dbregistry.read(registry_id, store=dbregistry_store()))


@router.put(
    "/asset_registry/<registry_id>",
    summary="Update an entry",
    tags=TAGS,
    responses=answers(200, RegistryEntry, 409, headers=ETAG),
)
def update(
    registry_id: Annotated[str, Path()], patch: Annotated[AssetsDBRegistryUpdate, Body()]
) -> Response[Any]:
    updated = audited(
        lambda: dbregistry.update(
            registry_id, patch, store=dbregistry_store(), precondition=if_match(router)
        ),
        Change(
            "RegistryUpdated",
            REGISTRATION,
            registry_id,
            changes=tuple(patch.model_dump(exclude_unset=True)),
        ),
    )
    return versioned_response(updated)


@router.delete(
    "/asset_registry/<registry_id>",
    summary="Delete an entry",
    tags=TAGS,
    responses=answers(200, RegistryDeleted, 409),
)
def delete(registry_id: Annotated[str, Path()]) -> dict[str, Any]:
    return audited(
        lambda: dbregistry.delete(
            registry_id, store=dbregistry_store(), precondition=if_match(router)
        ),
        Change("RegistryDeleted", REGISTRATION, registry_id),
    )


@router.post(
    "/asset_registries", summary="Query entries", tags=TAGS, responses=answers(200, RegistryPage)
)
def query(
    body: Annotated[dict[str, Any], Body()], limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    page = PageRequest.parse(limit, cursor)
    return dbregistry.query(body, page, store=dbregistry_store()).body()


@router.get(
    "/check_health/<registry_id>",
    summary="Check an Assets DB's health",
    tags=TAGS,
    responses=answers(200, HealthCheck),
)
def check_health(registry_id: Annotated[str, Path()]) -> dict[str, Any]:
    settings = get_settings()
    checker = partial(
        probe,
        timeout=settings.health_check_timeout_seconds,
        allow_loopback=settings.health_check_allow_loopback,
    )
    return dbregistry.check_health(registry_id, store=dbregistry_store(), probe=checker)
