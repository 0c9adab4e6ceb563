"""The Assets Registry's write routes (spec 000), under /registry: create, update, delete;
and the one read of an asset's write-only credentials, for its owner or an admin."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import Router

from assets_core.api.http import ETAG, answers, if_match, json_response, versioned_response
from assets_core.config import get_settings
from assets_core.keys import stored_url
from assets_core.logic import assets, credentials
from assets_core.models.asset import Asset, AssetUpdate
from assets_core.models.responses import AssetCredentials, AssetDeleted, AssetRecord
from assets_core.ports import etag_of
from assets_core.stores.factory import assets_store, credentials_vault, objects

router = Router()


def bucket_url() -> str:
    """Where this deployment's stored files live, as file entries name them."""
    return stored_url(get_settings().bucket_name)


@router.post(
    "/assets",
    summary="Register an asset (400 ASSET_EXISTS if its asset_id is taken)",
    tags=["assets"],
    responses=answers(201, AssetRecord, description="The stored asset", headers=ETAG),
)
def create_asset(asset: Annotated[Asset, Body()]) -> Response[Any]:
    created = assets.create_for_client(
        asset, store=assets_store(), bucket_url=bucket_url(), vault=credentials_vault()
    )
    return json_response(HTTPStatus.CREATED, created, {"ETag": etag_of(1)})


@router.put(
    "/assets/<asset_id>",
    summary="Update fields of an asset (If-Match: its ETag, else 409 when it changed)",
    tags=["assets"],
    responses=answers(200, AssetRecord, 409, headers=ETAG),
)
def update_asset(
    asset_id: Annotated[str, Path()], patch: Annotated[AssetUpdate, Body()]
) -> Response[Any]:
    updated = assets.update(
        asset_id,
        patch,
        store=assets_store(),
        bucket_url=bucket_url(),
        precondition=if_match(router),
        vault=credentials_vault(),
    )
    return versioned_response(updated)


@router.delete(
    "/assets/<asset_id>",
    summary="Delete an asset",
    tags=["assets"],
    responses=answers(200, AssetDeleted, 409),
)
def delete_asset(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
    return assets.delete(
        asset_id,
        store=assets_store(),
        files=objects(),
        precondition=if_match(router),
        vault=credentials_vault(),
    )


@router.get(
    "/assets/<asset_id>/credentials",
    summary="The asset's container registry credentials (its owner or an admin; 403 otherwise)",
    tags=["assets"],
    responses=answers(200, AssetCredentials),
)
def read_credentials(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
    return credentials.read(asset_id, store=assets_store(), vault=credentials_vault())
