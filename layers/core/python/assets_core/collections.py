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
