"""Spec 001's Assets DB registry API under /dbregistry."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import Cursor, Limit, if_match, json_response, versioned_response
from assets_core.config import get_settings
from assets_core.errors import InvalidInput
from assets_core.logic import dbregistry
from assets_core.models.assetdb import AssetsDBRegistryFields, AssetsDBRegistryUpdate
from assets_core.pagination import PageRequest
from assets_core.routes import DBREGISTRY
from assets_core.stores.probe import probe
from assets_core.stores.registry import dbregistry_store


def register_dbregistry(app: APIGatewayHttpResolver | Router) -> None:
    tags = ["dbregistry"]

    @app.post(f"{DBREGISTRY}/asset_registry", summary="Register an Assets DB", tags=tags)
    def create(fields: Annotated[AssetsDBRegistryFields, Body()]) -> Response[Any]:
        created = dbregistry.create(fields, store=dbregistry_store())
        return json_response(HTTPStatus.CREATED, created)

    @app.get(f"{DBREGISTRY}/asset_registry/<registry_id>", summary="Get an entry", tags=tags)
    def get(registry_id: Annotated[str, Path()]) -> Response[Any]:
        return versioned_response(dbregistry.read(registry_id, store=dbregistry_store()))

    @app.put(f"{DBREGISTRY}/asset_registry/<registry_id>", summary="Update an entry", tags=tags)
    def update(
        registry_id: Annotated[str, Path()], patch: Annotated[AssetsDBRegistryUpdate, Body()]
    ) -> Response[Any]:
        updated = dbregistry.update(
            registry_id, patch, store=dbregistry_store(), precondition=if_match(app)
        )
        return versioned_response(updated)

    @app.delete(f"{DBREGISTRY}/asset_registry/<registry_id>", summary="Delete an entry", tags=tags)
    def delete(registry_id: Annotated[str, Path()]) -> dict[str, Any]:
        return dbregistry.delete(registry_id, store=dbregistry_store(), precondition=if_match(app))

    @app.post(f"{DBREGISTRY}/asset_registries", summary="Query entries", tags=tags)
    def query(
        body: Annotated[dict[str, Any], Body()], limit: Limit = None, cursor: Cursor = None
    ) -> dict[str, Any]:
        page = PageRequest.parse(limit, cursor)
        return dbregistry.query(body, page, store=dbregistry_store()).body()

    @app.get(
        f"{DBREGISTRY}/check_health/<registry_id>", summary="Check an Assets DB's health", tags=tags
    )
    def check_health(registry_id: Annotated[str, Path()]) -> dict[str, Any]:
        entry = dbregistry.get(registry_id, store=dbregistry_store())
        base = entry.get("asset_registry_public_url") or ""
        if not base:
            raise InvalidInput("This entry has no asset_registry_public_url to check.")
        settings = get_settings()
        result = probe(
            base.rstrip("/") + "/health",
            timeout=settings.health_check_timeout_seconds,
            allow_loopback=settings.health_check_allow_loopback,
        )
        answer: dict[str, Any] = {
            "asset_registry_id": registry_id,
            "healthy": result.healthy,
            "status_code": result.status_code,
            "latency_ms": result.latency_ms,
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if result.error:
            answer["error"] = result.error
        return answer


DBREGISTRY_REST = (register_dbregistry,)
