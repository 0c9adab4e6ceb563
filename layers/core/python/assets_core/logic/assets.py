"""Spec 000's asset lifecycle: create, read, partial update, delete, and the queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assets_core.errors import AlreadyExists, InvalidInput, NotFound, where_and_why
from assets_core.filters import validate_filter
from assets_core.pagination import Page, PageRequest
from assets_core.stores.documents import DocumentStore

if TYPE_CHECKING:  # loaded by the write paths; the read-only functions never build these models
    from assets_core.models.asset import Asset, AssetUpdate

# The paths the typed queries use; each gets an index.
TYPE_PATH = "profiles.asset_type"
SUB_TYPE_PATH = "profiles.asset_sub_type"
TAG_PATH = "profiles.asset_tags"
API_ROUTE_PATH = "apis.asset_api_route"
INDEXED_PATHS = (TYPE_PATH, SUB_TYPE_PATH, TAG_PATH, API_ROUTE_PATH, "asset_uri", "asset_version")


class AssetExists(AlreadyExists):
    # Spec 000 answers a duplicate asset_id with 400, not the contract's usual 409.
    status = InvalidInput.status
    code = "ASSET_EXISTS"


def _not_found(asset_id: str) -> NotFound:
    return NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")


def create(asset: Asset, *, store: DocumentStore) -> dict[str, Any]:
    """Register a new asset; ``AssetExists`` when its id is taken."""
    document = asset.document()
    try:
        store.insert(document)
    except AlreadyExists:
        raise AssetExists(
            f"An asset with asset_id '{asset.asset_id}' already exists; "
            "update it with PUT or choose another id."
        ) from None
    return document


def get(asset_id: str, *, store: DocumentStore) -> dict[str, Any]:
    """The stored asset with this id."""
    found = store.get(asset_id)
    if found is None:
        raise _not_found(asset_id)
    return found


def exists(asset_id: str, *, store: DocumentStore) -> bool:
    return store.get(asset_id) is not None


def update(asset_id: str, patch: AssetUpdate, *, store: DocumentStore) -> dict[str, Any]:
    """Change the fields sent; the result must still be a valid asset, and the id stays."""
    changes = patch.changes()
    if "asset_id" in changes and changes["asset_id"] != asset_id:
        raise InvalidInput(
            f"asset_id cannot change (the path names '{asset_id}', the body "
            f"'{changes['asset_id']}').",
            code="FIELD_READ_ONLY",
        )
    if not changes:
        raise InvalidInput("The update is empty; send at least one field to change.")
    from assets_core.models.asset import Asset

    current = get(asset_id, store=store)
    try:
        merged = Asset.model_validate({**current, **changes})
    except ValidationError as exc:
        raise InvalidInput(f"The update would make the asset invalid: {_first_error(exc)}") from exc
    document = merged.document()
    if not store.replace(asset_id, document):
        raise _not_found(asset_id)
    return document


def delete(asset_id: str, *, store: DocumentStore) -> dict[str, Any]:
    """Remove the asset and its embedded metadata."""
    if not store.delete(asset_id):
        raise _not_found(asset_id)
    return {"success": True, "asset_id": asset_id, "deleted": True}


def by_type(asset_type: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile of this ``asset_type``."""
    return store.find_page({TYPE_PATH: asset_type}, page)


def by_sub_type(sub_type: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile of this ``asset_sub_type``."""
    return store.find_page({SUB_TYPE_PATH: sub_type}, page)


def by_tag(tag: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile tagged with this value."""
    return store.find_page({TAG_PATH: tag}, page)


def by_api_route(route: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets defining an API on this route, written with or without its leading slash."""
    bare = route.lstrip("/")
    return store.find_page({API_ROUTE_PATH: {"$in": [bare, "/" + bare]}}, page)


def search(query: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets matching a MongoDB-style filter of the allowed operators."""
    return store.find_page(validate_filter(query), page)


def list_all(page: PageRequest, *, store: DocumentStore) -> Page:
    """Every asset, in asset_id order."""
    return store.find_page({}, page)


def _first_error(exc: ValidationError) -> str:
    return where_and_why(exc.errors()[0], "the asset") + "."
