"""Spec 000's read-only GraphQL schema over the assets collection."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ariadne import QueryType, make_executable_schema
from ariadne.types import GraphQLSchema

from assets_core.graphql.common import GENERIC_SCALAR_SDL, generic_scalar
from assets_core.logic import assets
from assets_core.pagination import DEFAULT_LIMIT, PageRequest
from assets_core.stores.factory import assets_store

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
}}

type Query {{
  "One asset by its id, or null."
  getAssetById(assetId: String!): Asset
  "Assets with a profile of this type (at most limit, default {DEFAULT_LIMIT}, max 1000)."
  getAssetsByType(assetType: String!, limit: Int = {DEFAULT_LIMIT}): [Asset!]!
  "Assets with a profile tagged with this value."
  getAssetsByTag(tag: String!, limit: Int = {DEFAULT_LIMIT}): [Asset!]!
  "Assets with a profile of this sub-type."
  getAssetsBySubType(subType: String!, limit: Int = {DEFAULT_LIMIT}): [Asset!]!
  "Assets defining an API on this route."
  getAssetsByApiRoute(route: String!, limit: Int = {DEFAULT_LIMIT}): [Asset!]!
  "Assets matching a GenericScalar filter, by assetId; after: the last assetId of an answer."
  searchAssets(filters: GenericScalar, limit: Int = {DEFAULT_LIMIT}, after: String): [Asset!]!
}}
"""
)

query = QueryType()

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
    }
}


def _page(limit: int | None) -> PageRequest:
    return PageRequest.parse(limit, None)


@query.field("getAssetById")
def resolve_get_asset_by_id(_: Any, __: Any, asset_id: str) -> dict[str, Any] | None:
    return assets.find_by_id(asset_id, store=assets_store())


@query.field("getAssetsByType")
def resolve_by_type(_: Any, __: Any, asset_type: str, limit: int) -> list[dict[str, Any]]:
    return assets.by_type(asset_type, _page(limit), store=assets_store()).items


@query.field("getAssetsByTag")
def resolve_by_tag(_: Any, __: Any, tag: str, limit: int) -> list[dict[str, Any]]:
    return assets.by_tag(tag, _page(limit), store=assets_store()).items


@query.field("getAssetsBySubType")
def resolve_by_sub_type(_: Any, __: Any, sub_type: str, limit: int) -> list[dict[str, Any]]:
    return assets.by_sub_type(sub_type, _page(limit), store=assets_store()).items


@query.field("getAssetsByApiRoute")
def resolve_by_api_route(_: Any, __: Any, route: str, limit: int) -> list[dict[str, Any]]:
    return assets.by_api_route(route, _page(limit), store=assets_store()).items


@query.field("searchAssets")
def resolve_search(
    _: Any, __: Any, limit: int, filters: Any = None, after: str | None = None
) -> list[dict[str, Any]]:
    """Spec 000 and the contract make ``filters`` optional: none (or null) matches every asset.
    Assets come in assetId order; ``after`` (the last assetId of an answer) continues where
    it stopped, at its count or at the 4 MiB a Lambda response can carry."""
    page = PageRequest(limit=_page(limit).limit, after=after or None)
    return assets.search(filters, page, store=assets_store()).items


@lru_cache(maxsize=1)
def registry_schema() -> GraphQLSchema:
    """The executable schema; camelCase fields resolve to the stored snake_case keys."""
    return make_executable_schema(TYPE_DEFS, query, generic_scalar, convert_names_case=True)
