"""Spec 001's Assets DB registry: where Assets DBs are listed, found and health-checked."""

from __future__ import annotations

import uuid
from typing import Any

from assets_core.errors import InvalidInput, NotFound
from assets_core.filters import validate_filter
from assets_core.models.assetdb import AssetsDBRegistryFields, AssetsDBRegistryUpdate
from assets_core.pagination import Page, PageRequest
from assets_core.stores.documents import DocumentStore

KEY = "asset_registry_id"
INDEXED_PATHS = ("asset_registry_name", "asset_registry_tags")


def _not_found(registry_id: str) -> NotFound:
    return NotFound(f"No Assets DB is registered as '{registry_id}'.", code="REGISTRY_NOT_FOUND")


def create(fields: AssetsDBRegistryFields, *, store: DocumentStore) -> dict[str, Any]:
    document = {KEY: str(uuid.uuid4()), **fields.model_dump(mode="json")}
    store.insert(document)
    document.pop("_id", None)
    return document


def get(registry_id: str, *, store: DocumentStore) -> dict[str, Any]:
    found = store.get(registry_id)
    if found is None:
        raise _not_found(registry_id)
    return found


def update(
    registry_id: str, patch: AssetsDBRegistryUpdate, *, store: DocumentStore
) -> dict[str, Any]:
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise InvalidInput("The update is empty; send at least one field to change.")
    if any(value is None for value in changes.values()):
        raise InvalidInput("Fields cannot be set to null; send a value or leave them out.")
    updated = store.update(registry_id, {"$set": changes})
    if updated is None:
        raise _not_found(registry_id)
    return updated


def delete(registry_id: str, *, store: DocumentStore) -> dict[str, Any]:
    if not store.delete(registry_id):
        raise _not_found(registry_id)
    return {"success": True, KEY: registry_id, "deleted": True}


def query(filter_: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    return store.find_page(validate_filter(filter_), page)
