"""Spec 000's read-only GraphQL schema over the assets collection."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ariadne import ObjectType, QueryType, make_executable_schema
from ariadne.types import GraphQLSchema

from assets_core.errors import NotFound
from assets_core.graphql.common import GENERIC_SCALAR_SDL, generic_scalar
from assets_core.logic import assets, lineage, versions
from assets_core.pagination import DEFAULT_LIMIT, PageRequest
from assets_core.ports import DocumentStore
from assets_core.stores.factory import assets_store, lineage_store, versions_store

TYPE_DEFS = (
    GENERIC_SCALAR_SDL
    + f"""
"A registered asset (spec 000). Embedded lists are returned whole, as JSON."
type Asset {{
  assetId: String!
  assetUri: String!
  assetVersion: String!
  assetProfileId: String!
  assetFileIds: [String!]!
  assetContainerUri: String
  assetPolicyIds: [String!]!
  assetContainerRegistryCredsConfig: GenericScalar
  assetWorkflowId: String
  assetApiIds: [String!]!
  assetBriefDescription: String
  profiles: [GenericScalar!]!
  policies: [GenericScalar!]!
  files: [GenericScalar!]!
  apis: [GenericScalar!]!
  indexMappings: [GenericScalar!]!
  "Every live version of this asset, newest first (at most limit)."
  versions(limit: Int = {DEFAULT_LIMIT}): [AssetVersion!]!
  "The asset's aliases: alias -> version ('latest' is the newest version)."
  aliases: GenericScalar!
}}

"One version of an asset, as the versions list shows it."
type AssetVersion {{
  assetVersion: String!
  createdAt: String!
  createdBy: String!
  fileCount: Int!
  totalBytes: Float!
  aliases: [String!]!
}}

"A version in a lineage walk (deleted: kept, marked, until purged)."
type LineageNode {{
  key: String!
  assetId: String!
  assetVersion: String!
  assetType: String
  deleted: Boolean
}}

"An edge: from relation to (to is upstream of from); ends are <assetId>/<assetVersion>."
type LineageEdge {{
  from: String!
  to: String!
  relation: String!
}}

"The versions around one version and the edges between them, as the caller may see them."
type Lineage {{
  nodes: [LineageNode!]!
  edges: [LineageEdge!]!
  "True when the walk reached more than 2000 versions (ask less deep)."
  truncated: Boolean
}}

type Query {{
  "The lineage of an asset version: direction upstream, downstream or both; depth 1-10."
  lineage(assetId: String!, version: String, direction: String = "both", depth: Int = 1): Lineage
  "One asset by its id (its current version, or the version or alias named), or null."
  getAssetById(assetId: String!, version: String): Asset
  "Assets of this type (limit: default {DEFAULT_LIMIT}, max 1000; allVersions: every version)."
  getAssetsByType(
    assetType: String!, limit: Int = {DEFAULT_LIMIT}, allVersions: Boolean = false
  ): [Asset!]!
  "Assets with a profile tagged with this value."
  getAssetsByTag(
    tag: String!, limit: Int = {DEFAULT_LIMIT}, allVersions: Boolean = false
  ): [Asset!]!
  "Assets with a profile of this sub-type."
  getAssetsBySubType(
    subType: String!, limit: Int = {DEFAULT_LIMIT}, allVersions: Boolean = false
  ): [Asset!]!
  "Assets defining an API on this route."
  getAssetsByApiRoute(
    route: String!, limit: Int = {DEFAULT_LIMIT}, allVersions: Boolean = false
  ): [Asset!]!
  "Assets matching a GenericScalar filter, by assetId; after: the last assetId of an answer."
  searchAssets(
    filters: GenericScalar, limit: Int = {DEFAULT_LIMIT}, after: String,
    allVersions: Boolean = false
  ): [Asset!]!
}}
"""
)

query = QueryType()
asset_type = ObjectType("Asset")

# A list field costs its selected fields times the number of assets it may return.
COST_MAP = {
    "Query": {
        name: {"complexity": 1, "multipliers": ["limit"]}
        for name in (
            "getAssetsByType",
            "getAssetsByTag",
            "getAssetsBySubType",
            "getAssetsByApiRoute",
            "searchAssets",
        )
    },
    "Asset": {"versions": {"complexity": 1, "multipliers": ["limit"]}},
}


def _page(limit: int | None) -> PageRequest:
    return PageRequest.parse(limit, None)


def _matched(all_versions: bool) -> DocumentStore:
    return versions_store() if all_versions else assets_store()


@query.field("getAssetById")
def resolve_get_asset_by_id(
    _: Any, __: Any, asset_id: str, version: str | None = None
) -> dict[str, Any] | None:
    return assets.find_by_id(
        asset_id, store=assets_store(), versions=versions_store(), version=version
    )


@query.field("lineage")
def resolve_lineage(
    _: Any, __: Any, asset_id: str, direction: str, depth: int, version: str | None = None
) -> dict[str, Any] | None:
    try:
        return lineage.walk(
            asset_id,
            version,
            direction=direction,
            depth=depth,
            edges=lineage_store(),
            store=assets_store(),
            versions_store=versions_store(),
        )
    except NotFound:
        return None


@query.field("getAssetsByType")
def resolve_by_type(
    _: Any, __: Any, asset_type: str, limit: int, all_versions: bool = False
) -> list[dict[str, Any]]:
    return assets.by_type(asset_type, _page(limit), store=_matched(all_versions)).items


@query.field("getAssetsByTag")
def resolve_by_tag(
    _: Any, __: Any, tag: str, limit: int, all_versions: bool = False
) -> list[dict[str, Any]]:
    return assets.by_tag(tag, _page(limit), store=_matched(all_versions)).items


@query.field("getAssetsBySubType")
def resolve_by_sub_type(
    _: Any, __: Any, sub_type: str, limit: int, all_versions: bool = False
) -> list[dict[str, Any]]:
    return assets.by_sub_type(sub_type, _page(limit), store=_matched(all_versions)).items


@query.field("getAssetsByApiRoute")
def resolve_by_api_route(
    _: Any, __: Any, route: str, limit: int, all_versions: bool = False
) -> list[dict[str, Any]]:
    return assets.by_api_route(route, _page(limit), store=_matched(all_versions)).items


@query.field("searchAssets")
def resolve_search(
    _: Any,
    __: Any,
    limit: int,
    filters: Any = None,
    after: str | None = None,
    all_versions: bool = False,
) -> list[dict[str, Any]]:
    """Spec 000 and the contract make ``filters`` optional: none (or null) matches every asset.
    Assets come in assetId order; ``after`` (the last assetId of an answer) continues where
    it stopped, at its count or at the 4 MiB a Lambda response can carry."""
    page = PageRequest(limit=_page(limit).limit, after=after or None)
    return assets.search(filters, page, store=_matched(all_versions)).items


@asset_type.field("versions")
def resolve_versions(asset: dict[str, Any], _: Any, limit: int) -> list[dict[str, Any]]:
    try:
        listed = versions.listing(str(asset["asset_id"]), _page(limit), store=assets_store())
    except NotFound:  # an earlier version whose asset went meanwhile
        return []
    items: list[dict[str, Any]] = listed["items"]
    return items


@asset_type.field("aliases")
def resolve_aliases(asset: dict[str, Any], _: Any) -> dict[str, str]:
    head = assets_store().get(str(asset["asset_id"]))
    if head is None:
        return {}
    index = versions.index_of(head)
    newest = versions.current_entry(index)["asset_version"]
    return {versions.LATEST: newest, **index["aliases"]}


@lru_cache(maxsize=1)
def registry_schema() -> GraphQLSchema:
    """The executable schema; camelCase fields resolve to the stored snake_case keys."""
    return make_executable_schema(
        TYPE_DEFS, query, asset_type, generic_scalar, convert_names_case=True
    )
