"""The stores each service uses, created once per process."""

from __future__ import annotations

from functools import lru_cache

from assets_core.logic.assets import INDEXED_PATHS
from assets_core.stores.documents import MongoDocumentStore, collection_store

ASSETS_COLLECTION = "assets"


@lru_cache(maxsize=1)
def assets_store() -> MongoDocumentStore:
    """Spec 000's assets, keyed by ``asset_id``, with their query indexes."""
    store = collection_store(ASSETS_COLLECTION, key_field="asset_id")
    store.ensure_indexes(INDEXED_PATHS)
    return store
