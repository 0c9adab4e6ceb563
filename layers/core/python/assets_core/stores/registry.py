"""The stores each service uses, created once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from assets_core.stores.documents import MongoDocumentStore, collection_store

if TYPE_CHECKING:
    from assets_core.stores.objects import S3ObjectStore

# Each factory imports its service's logic when first called, so a function imports only the
# services it serves.

ASSETS_COLLECTION = "assets"
COMPONENTS_COLLECTION = "components"


@lru_cache(maxsize=1)
def assets_store() -> MongoDocumentStore:
    """Spec 000's assets, keyed by ``asset_id``, with their query indexes."""
    from assets_core.logic.assets import INDEXED_PATHS

    store = collection_store(ASSETS_COLLECTION, key_field="asset_id")
    store.ensure_indexes(INDEXED_PATHS)
    return store


@lru_cache(maxsize=1)
def components_store() -> MongoDocumentStore:
    """Spec 002's components, keyed by the unique ``componentURI``."""
    from assets_core.logic import components

    store = collection_store(COMPONENTS_COLLECTION, key_field=components.URI_FIELD)
    store.ensure_indexes(components.INDEXED_PATHS)
    return store


@lru_cache(maxsize=1)
def components_graph_store() -> MongoDocumentStore:
    """The same collection with MongoDB's ``_id`` shown, for GraphQL's componentById."""
    from assets_core.logic import components

    return collection_store(COMPONENTS_COLLECTION, key_field=components.URI_FIELD, show_id=True)


@lru_cache(maxsize=1)
def assetdb_store() -> MongoDocumentStore:
    """Spec 001's asset records, keyed by ``asset_id``; a non-empty ``asset_uri`` is unique."""
    from assets_core.logic import assetdb

    store = collection_store("asset_objects", key_field="asset_id")
    store.ensure_indexes(assetdb.INDEXED_PATHS, unique=assetdb.UNIQUE_PATHS)
    return store


@lru_cache(maxsize=1)
def dbregistry_store() -> MongoDocumentStore:
    """Spec 001's registry of Assets DBs, keyed by ``asset_registry_id``."""
    from assets_core.logic import dbregistry

    store = collection_store("asset_registries", key_field=dbregistry.KEY)
    store.ensure_indexes(dbregistry.INDEXED_PATHS)
    return store


def objects() -> S3ObjectStore:
    """The object store, imported by the routes that use it: an API function's other routes
    (status polls, queries, redirects) never load botocore, a third of its cold start."""
    from assets_core.stores.objects import object_store

    return object_store()
