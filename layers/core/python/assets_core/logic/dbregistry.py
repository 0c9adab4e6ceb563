"""Spec 001's Assets DB registry: where Assets DBs are listed, found and health-checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from assets_core.collections import ASSET_REGISTRIES
from assets_core.errors import InvalidInput, NotFound
from assets_core.filters import validate_filter
from assets_core.logic.revisions import Precondition, modify
from assets_core.models.assetdb import AssetsDBRegistryFields, AssetsDBRegistryUpdate
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, HealthProbe, Versioned

KEY = ASSET_REGISTRIES.key_field


def _not_found(registry_id: str) -> NotFound:
    return NotFound(f"No Assets DB is registered as '{registry_id}'.", code="REGISTRY_NOT_FOUND")


def create(fields: AssetsDBRegistryFields, *, store: DocumentStore) -> dict[str, Any]:
    document = {KEY: str(uuid.uuid4()), **fields.model_dump(mode="json")}
    store.insert(document)
    return document


def get(registry_id: str, *, store: DocumentStore) -> dict[str, Any]:
    return read(registry_id, store=store).document


def read(registry_id: str, *, store: DocumentStore) -> Versioned:
    found = store.read(registry_id)
    if found is None:
        raise _not_found(registry_id)
    return found


def update(
    registry_id: str,
    patch: AssetsDBRegistryUpdate,
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> Versioned:
    """``$set`` of the fields sent (atomic); with ``If-Match``, only over a revision it
    names."""
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise InvalidInput("The update is empty; send at least one field to change.")
    if any(value is None for value in changes.values()):
        raise InvalidInput("Fields cannot be set to null; send a value or leave them out.")

    def write(current: Versioned) -> dict[str, Any]:
        updated = store.update(registry_id, {"$set": changes}, revision=current.revision)
        if updated is None:
            raise _not_found(registry_id)
        return updated

    return Versioned(
        *modify(
            store,
            registry_id,
            write,
            precondition=precondition,
            missing=lambda: _not_found(registry_id),
            what=f"The Assets DB entry '{registry_id}'",
        )
    )


def delete(
    registry_id: str, *, store: DocumentStore, precondition: Precondition | None = None
) -> dict[str, Any]:
    revision = None
    if precondition is not None:
        current = read(registry_id, store=store)
        precondition.check(current, f"The Assets DB entry '{registry_id}'")
        revision = current.revision
    if not store.delete(registry_id, revision=revision):
        raise _not_found(registry_id)
    return {"success": True, KEY: registry_id, "deleted": True}


def query(filter_: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    return store.find_page(validate_filter(filter_), page)


def check_health(registry_id: str, *, store: DocumentStore, probe: HealthProbe) -> dict[str, Any]:
    """Probe ``<asset_registry_public_url>/health`` of an entry; the result, timed."""
    entry = get(registry_id, store=store)
    base = entry.get("asset_registry_public_url") or ""
    if not base:
        raise InvalidInput("This entry has no asset_registry_public_url to check.")
    result = probe(base.rstrip("/") + "/health")
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
