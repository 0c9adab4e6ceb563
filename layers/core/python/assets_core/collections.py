"""Where each service keeps its documents: the collection, the key, and the paths its
queries use (each indexed). Plain names, shared by logic (which queries them) and the store
factories (which create the indexes), so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Collection:
    name: str
    key_field: str
    indexed: tuple[str, ...] = ()
    # Unique where set: documents without the field (or with "") do not clash.
    unique: tuple[str, ...] = ()


# Spec 000's assets: the typed queries' paths.
TYPE_PATH = "profiles.asset_type"
SUB_TYPE_PATH = "profiles.asset_sub_type"
TAG_PATH = "profiles.asset_tags"
API_ROUTE_PATH = "apis.asset_api_route"
ASSETS = Collection(
    "assets",
    "asset_id",
    (TYPE_PATH, SUB_TYPE_PATH, TAG_PATH, API_ROUTE_PATH, "asset_uri", "asset_version"),
)
# Every version of every asset (the current one too), keyed "<asset_id>/<asset_version>"
# (an asset_id holds no "/"), for reads of an earlier version and all_versions queries.
VERSION_KEY = "version_key"
ASSET_VERSIONS = Collection(
    "asset_versions",
    VERSION_KEY,
    (TYPE_PATH, SUB_TYPE_PATH, TAG_PATH, API_ROUTE_PATH, "asset_id", "asset_version"),
)
# The server's bookkeeping inside an asset's and a version's document: the versions index,
# aliases and deletion marks (``logic/versions.py``). Never shown, never sent by a client.
REGISTRY_FIELD = "_registry"
# Content stored once: one record per distinct sha256, naming its object and who holds it.
BLOBS = Collection("blobs", "sha256", ("key", "refs"))
# Spec 002's components, keyed by their unique URI.
COMPONENTS = Collection(
    "components",
    "componentURI",
    ("componentType", "componentId.name", "tags", "createdAt", "lastModifiedAt"),
)
# Spec 001's Assets DB records (a non-empty asset_uri is unique) and its registry of DBs.
ASSET_OBJECTS = Collection(
    "asset_objects",
    "asset_id",
    ("asset_name", "asset_tags", "asset_version.version", "assets_db_id"),
    unique=("asset_uri",),
)
ASSET_REGISTRIES = Collection(
    "asset_registries", "asset_registry_id", ("asset_registry_name", "asset_registry_tags")
)
# The audit trail: one record per successful write, append-only, keyed so that key order is
# newest first (``logic/audit.py``); the outbox of records not yet published as events, one
# per record, keyed "<stream>#<seq>"; and each stream's (resource's) sequence counter.
AUDIT = Collection("audit", "audit_id", ("resource", "id", "actor", "at"))
OUTBOX = Collection("outbox", "outbox_id", ("stream",))
AUDIT_STREAMS = Collection("audit_streams", "stream")
# Lineage: one edge per (version, relation, version), keyed "<from>|<relation>|<to>" where a
# version is "<asset_id>/<asset_version>".
LINEAGE = Collection("lineage", "edge_key", ("from_key", "to_key", "from_id", "to_id"))
