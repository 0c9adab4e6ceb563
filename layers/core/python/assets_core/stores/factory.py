"""The stores each service uses, created once per process; each store's calls are trace
spans of their own when tracing is on (``observability.traced``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from assets_core.collections import (
    ASSET_OBJECTS,
    ASSET_REGISTRIES,
    ASSET_VERSIONS,
    ASSETS,
    BLOBS,
    COMPONENTS,
    LINEAGE,
    REGISTRY_FIELD,
    Collection,
)
from assets_core.config import get_settings
from assets_core.observability import traced
from assets_core.ports import BlobStore, Stores, Vault
from assets_core.scoping import CallerScopedStore
from assets_core.stores.blobs import MongoBlobStore
from assets_core.stores.documents import MongoDocumentStore, collection_store

if TYPE_CHECKING:
    from assets_core.stores.audit import MongoAuditTrail
    from assets_core.stores.objects import S3ObjectStore
    from assets_core.stores.status import RedisStatusStore


def _store(collection: Collection, *, show_id: bool = False) -> MongoDocumentStore:
    store = collection_store(collection.name, key_field=collection.key_field, show_id=show_id)
    if not show_id:  # the _id view shares the collection, and its indexes
        store.ensure_indexes(collection.indexed, unique=collection.unique)
    return traced(store, f"documents.{collection.name}")


def _scoped(
    collection: Collection,
    *,
    private_records: bool,
    what: str,
    show_id: bool = False,
    live: Mapping[str, object] | None = None,
) -> CallerScopedStore[MongoDocumentStore]:
    """The collection as the current caller sees it (``scoping``)."""
    return CallerScopedStore(
        _store(collection, show_id=show_id),
        private_records=private_records,
        default_visibility=lambda: get_settings().default_visibility,
        what=what,
        live=live,
    )


# A soft-deleted asset, and a version deleted or of a deleted asset, is in no read.
LIVE_ASSET = {f"{REGISTRY_FIELD}.deleted_at": None}
LIVE_VERSION = {f"{REGISTRY_FIELD}.deleted_at": None, f"{REGISTRY_FIELD}.asset_deleted_at": None}


@lru_cache(maxsize=1)
def assets_store() -> CallerScopedStore[MongoDocumentStore]:
    """Spec 000's assets, keyed by ``asset_id``, each as its current version, with their
    query indexes; private ones only for their owner and admins, deleted ones for nobody."""
    return _scoped(ASSETS, private_records=True, what="asset", live=LIVE_ASSET)


@lru_cache(maxsize=1)
def versions_store() -> CallerScopedStore[MongoDocumentStore]:
    """Every version of every asset, keyed ``<asset_id>/<asset_version>``, as the caller
    may see them (a version's visibility is its asset's)."""
    return _scoped(ASSET_VERSIONS, private_records=True, what="asset", live=LIVE_VERSION)


@lru_cache(maxsize=1)
def blobs_store() -> BlobStore:
    """Content stored once, keyed by sha256 (``stores/blobs.py``)."""
    return traced(MongoBlobStore(_store(BLOBS)), "blobs")


@lru_cache(maxsize=1)
def components_store() -> CallerScopedStore[MongoDocumentStore]:
    """Spec 002's components, keyed by the unique ``componentURI``; every reader sees them."""
    return _scoped(COMPONENTS, private_records=False, what="component")


@lru_cache(maxsize=1)
def components_graph_store() -> CallerScopedStore[MongoDocumentStore]:
    """The same collection with MongoDB's ``_id`` shown, for GraphQL's componentById."""
    return _scoped(COMPONENTS, private_records=False, what="component", show_id=True)


@lru_cache(maxsize=1)
def assetdb_store() -> CallerScopedStore[MongoDocumentStore]:
    """Spec 001's asset records, keyed by ``asset_id``; a non-empty ``asset_uri`` is unique;
    private ones only for their owner and admins."""
    return _scoped(ASSET_OBJECTS, private_records=True, what="asset record")


@lru_cache(maxsize=1)
def dbregistry_store() -> CallerScopedStore[MongoDocumentStore]:
    """Spec 001's registry of Assets DBs, keyed by ``asset_registry_id``."""
    return _scoped(ASSET_REGISTRIES, private_records=False, what="registration")


def objects() -> S3ObjectStore:
    """The object store, imported by the routes that use it: an API function's other routes
    (status polls, queries, redirects) never load botocore, a third of its cold start."""
    from assets_core.stores.objects import object_store

    return traced(object_store(), "objects")


def upload_status_store() -> RedisStatusStore:
    """The uploads' status and processing locks (Redis), imported on first use."""
    from assets_core.stores.status import status_store

    return traced(status_store(), "status")


@lru_cache(maxsize=1)
def lineage_store() -> MongoDocumentStore:
    """The edges between asset versions, and the graph's counter that every edge write
    steps (``logic/lineage.py``)."""
    return _store(LINEAGE)


@lru_cache(maxsize=1)
def audit_trail() -> MongoAuditTrail:
    """Where every write's audit record goes, and its events from there (``stores/audit``)."""
    from assets_core.stores.audit import audit_trail as trail

    return trail()


def upload_stores() -> Stores:
    """Ingest's and the janitor's stores: bundles, upload status, assets."""
    return Stores(
        objects=objects(),
        status=upload_status_store(),
        documents=assets_store(),
        versions=versions_store(),
        blobs=blobs_store(),
        vault=credentials_vault(),
        trail=audit_trail(),
        lineage=lineage_store(),
    )


def credentials_vault() -> Vault | None:
    """Where assets' container registry credentials are kept (Secrets Manager), imported on
    first use; None without ``CREDENTIALS_SECRET_PREFIX``."""
    from assets_core.stores.vault import credentials_vault as vault

    return vault()
