"""The Assets Registry's write routes (spec 000), under /registry: create, update, delete and
restore; versions and aliases; and the one read of an asset's write-only credentials, for
its owner or an admin."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field

from assets_core.api.http import (
    ETAG,
    VersionQuery,
    answers,
    audited_in,
    if_match,
    json_response,
    versioned_response,
)
from assets_core.config import get_settings
from assets_core.errors import InvalidInput
from assets_core.keys import stored_url
from assets_core.logic import assets, credentials, lineage, retention, versions
from assets_core.logic.audit import (
    ASSET,
    REGISTRY,
    Change,
    asset_change,
    changed_fields,
    version_created,
)
from assets_core.logic.credentials import shown
from assets_core.models.asset import Asset, AssetUpdate, LineageEdge
from assets_core.models.responses import (
    AliasDeleted,
    AliasSet,
    AssetCredentials,
    AssetDeleted,
    AssetRecord,
    LineageEdgeRecord,
    VersionDeleted,
)
from assets_core.ports import Versioned, etag_of
from assets_core.stores.factory import (
    assets_store,
    blobs_store,
    credentials_vault,
    lineage_store,
    objects,
    versions_store,
)

router = Router()
audited = audited_in(REGISTRY)


def bucket_url() -> str:
    """Where this deployment's stored files live, as file entries name them."""
    return stored_url(get_settings().bucket_name)


@router.post(
    "/assets",
    summary="Register an asset (400 ASSET_EXISTS if its asset_id is taken)",
    tags=["assets"],
    responses=answers(
        201,
        AssetRecord,
        404,
        description="The stored asset (404: a lineage target it names is not found)",
        headers=ETAG,
    ),
)
def create_asset(asset: Annotated[Asset, Body()]) -> Response[Any]:
    created = new_version(
        asset,
        lambda **stores: assets.create_for_client(asset, bucket_url=bucket_url(), **stores),
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
    before: dict[str, Any] = {}

    def update() -> Versioned:
        before.clear()
        before.update(assets_store().get(asset_id) or {})
        return assets.update(
            asset_id,
            patch,
            store=assets_store(),
            versions=versions_store(),
            bucket_url=bucket_url(),
            precondition=if_match(router),
            vault=credentials_vault(),
        )

    def described(updated: Versioned) -> Change:
        changes = changed_fields(shown(before), updated.document)
        return asset_change("AssetUpdated", updated.document, changes=changes)

    return versioned_response(audited(update, described))


Purge = Annotated[
    str | None,
    Query(description="true (admins): remove the asset for good at once, not after retention"),
]


@router.delete(
    "/assets/<asset_id>",
    summary="Delete an asset (restorable for RETENTION_DAYS; ?purge=true: for good, admins)",
    tags=["assets"],
    responses=answers(200, AssetDeleted, 409),
)
def delete_asset(asset_id: Annotated[str, Path()], purge: Purge = None) -> dict[str, Any]:
    if purge not in (None, "true", "false"):
        raise InvalidInput("purge must be true or false.", code="INVALID_QUERY_PARAMETER")
    if purge == "true":
        # Objects and secrets go as it runs, which no transaction covers: the purge first
        # (run again, it finishes what a stopped one left), then its record.
        purged = retention.purge_now(asset_id, purge_catalog())
        return audited(lambda: purged, Change("AssetPurged", ASSET, asset_id))
    return audited(
        lambda: assets.delete(
            asset_id,
            store=assets_store(),
            versions=versions_store(),
            retention_days=get_settings().retention_days,
            precondition=if_match(router),
        ),
        Change("AssetDeleted", ASSET, asset_id),
    )


def purge_catalog() -> retention.Catalog:
    return retention.Catalog(
        assets_store(),
        versions_store(),
        blobs_store(),
        objects(),
        credentials_vault(),
        lineage=lineage_store(),
    )


@router.post(
    "/assets/<asset_id>/restore",
    summary="Restore a deleted asset with its versions and aliases (within RETENTION_DAYS)",
    tags=["assets"],
    responses=answers(200, AssetRecord, 409),
)
def restore_asset(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
    return audited(
        lambda: versions.restore_asset(asset_id, store=assets_store(), versions=versions_store()),
        lambda restored: asset_change("AssetRestored", restored),
    )


@router.post(
    "/assets/<asset_id>/versions",
    summary="Add a version (a complete asset document): it becomes the current one",
    tags=["versions"],
    responses=answers(201, AssetRecord, 404, 409),
)
def add_version(asset_id: Annotated[str, Path()], asset: Annotated[Asset, Body()]) -> Response[Any]:
    added = new_version(
        asset,
        lambda **stores: assets.add_version(asset_id, asset, bucket_url=bucket_url(), **stores),
    )
    return json_response(HTTPStatus.CREATED, added)


@router.delete(
    "/assets/<asset_id>/versions/<version>",
    summary="Delete one version (restorable for RETENTION_DAYS)",
    tags=["versions"],
    responses=answers(200, VersionDeleted, 409),
)
def delete_version(
    asset_id: Annotated[str, Path()], version: Annotated[str, Path()]
) -> dict[str, Any]:
    return audited(
        lambda: versions.delete_version(
            asset_id,
            version,
            store=assets_store(),
            versions=versions_store(),
            retention_days=get_settings().retention_days,
        ),
        lambda deleted: Change(
            "AssetVersionDeleted", ASSET, asset_id, version=deleted["asset_version"]
        ),
    )


@router.post(
    "/assets/<asset_id>/versions/<version>/restore",
    summary="Restore a deleted version with its aliases (within RETENTION_DAYS)",
    tags=["versions"],
    responses=answers(200, VersionDeleted, 409),
)
def restore_version(
    asset_id: Annotated[str, Path()], version: Annotated[str, Path()]
) -> dict[str, Any]:
    return audited(
        lambda: versions.restore_version(
            asset_id, version, store=assets_store(), versions=versions_store()
        ),
        lambda restored: Change(
            "AssetVersionRestored", ASSET, asset_id, version=restored["asset_version"]
        ),
    )


def new_version(asset: Asset, write: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A new version (``write`` given the stores), the edges it declares and its record, in
    one transaction: a version whose lineage cannot be recorded is not created."""
    edges = lineage_store()  # built (its collection made) before the transaction

    def create() -> dict[str, Any]:
        document = write(store=assets_store(), versions=versions_store(), vault=credentials_vault())
        lineage.declare(
            document,
            asset.declared_lineage(),
            edges=edges,
            store=assets_store(),
            versions_store=versions_store(),
        )
        return document

    created: dict[str, Any] = audited(create, version_created)
    return created


@router.post(
    "/assets/<asset_id>/lineage",
    summary="Add a lineage edge from the current (or ?version=) version to another version",
    tags=["lineage"],
    responses=answers(201, LineageEdgeRecord, 404, 409),
)
def add_lineage(
    asset_id: Annotated[str, Path()],
    edge: Annotated[LineageEdge, Body()],
    version: VersionQuery = None,
) -> Response[Any]:
    edges = lineage_store()

    def add() -> dict[str, Any]:
        if assets_store().changeable(asset_id) is None:
            raise versions.not_found(asset_id)
        source = versions.read(asset_id, version, store=assets_store(), versions=versions_store())
        return lineage.add(
            asset_id,
            source.version,
            edge.model_dump(),
            edges=edges,
            store=assets_store(),
            versions_store=versions_store(),
        )

    def described(added: dict[str, Any]) -> Change | None:
        if not added["created"]:
            return None  # recorded before: nothing changed
        return Change(
            "LineageAdded",
            ASSET,
            asset_id,
            version=added["from"].split("/", 1)[1],
            detail={"relation": added["relation"], "to": added["to"]},
        )

    added = audited(add, described)
    status = HTTPStatus.CREATED if added.pop("created") else HTTPStatus.OK
    return json_response(status, added)


class AliasTarget(BaseModel):
    """The version an alias points at."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    asset_version: str = Field(min_length=1, max_length=1024)


@router.put(
    "/assets/<asset_id>/aliases/<alias>",
    summary="Set or move an alias to a version",
    tags=["versions"],
    responses=answers(200, AliasSet),
)
def set_alias(
    asset_id: Annotated[str, Path()],
    alias: Annotated[str, Path()],
    target: Annotated[AliasTarget, Body()],
) -> dict[str, Any]:
    return audited(
        lambda: versions.set_alias(asset_id, alias, target.asset_version, store=assets_store()),
        lambda done: Change(
            "AliasSet", ASSET, asset_id, version=done["asset_version"], detail={"alias": alias}
        ),
    )


@router.delete(
    "/assets/<asset_id>/aliases/<alias>",
    summary="Delete an alias",
    tags=["versions"],
    responses=answers(200, AliasDeleted),
)
def delete_alias(asset_id: Annotated[str, Path()], alias: Annotated[str, Path()]) -> dict[str, Any]:
    return audited(
        lambda: versions.delete_alias(asset_id, alias, store=assets_store()),
        Change("AliasDeleted", ASSET, asset_id, detail={"alias": alias}),
    )


@router.get(
    "/assets/<asset_id>/credentials",
    summary="The asset's container registry credentials (its owner or an admin; 403 otherwise)",
    tags=["assets"],
    responses=answers(200, AssetCredentials),
)
def read_credentials(asset_id: Annotated[str, Path()]) -> dict[str, Any]:
    return credentials.read(asset_id, store=assets_store(), vault=credentials_vault())
