"""Spec 002's read-only GraphQL: the query resolvers graphql-compose-mongoose generates for the
Component model (componentById, componentByIds, componentOne, componentMany, componentCount,
componentPagination), with typed filters, ``_operators``, sort enums and JSON Mixed fields."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ariadne import EnumType, ObjectType, QueryType, ScalarType, make_executable_schema
from ariadne.types import GraphQLSchema

from assets_core.logic import components
from assets_core.models.component import MIXED_FIELDS
from assets_core.stores.factory import components_graph_store

OPERATORS = ("gt", "gte", "lt", "lte", "ne", "in", "nin", "regex", "exists", "all", "size")
SORTABLE = {
    "_ID": "_id",
    "COMPONENTURI": "componentURI",
    "COMPONENTTYPE": "componentType",
    "CREATEDAT": "createdAt",
    "LASTMODIFIEDAT": "lastModifiedAt",
}
FILTER_TYPES = (
    "FilterFindOneComponentInput",
    "FilterFindManyComponentInput",
    "FilterCountComponentInput",
)
SORT_TYPES = (
    "SortFindOneComponentInput",
    "SortFindManyComponentInput",
    "SortFindByIdsComponentInput",
)

_mixed_fields = "\n".join(f"  {name}: JSON" for name in MIXED_FIELDS)
_mixed_filters = "\n".join(f"  {name}: JSON" for name in MIXED_FIELDS)
_sort_values = " ".join(f"{key}_ASC {key}_DESC" for key in SORTABLE)


def _filter_input(name: str) -> str:
    return f"""
input {name} {{
  _id: MongoID
  componentId: ComponentIdFilterInput
  componentType: String
  componentURI: String
  containerRegistryInfo: ContainerRegistryInfoFilterInput
  createdAt: Date
  lastModifiedAt: Date
{_mixed_filters}
  tags: [String]
  "Operators per field path, e.g. {{componentType: {{in: [\\"model\\"]}}}} ({", ".join(OPERATORS)})."
  _operators: JSON
  AND: [{name}!]
  OR: [{name}!]
}}
"""


TYPE_DEFS = (
    """
"Any JSON value (mongoose Mixed)."
scalar JSON
"A MongoDB ObjectId as 24 hexadecimal digits."
scalar MongoID
"A timestamp, ISO-8601 in UTC."
scalar Date

type ComponentId { name: String! version: String! releaseTag: String! }
enum EnumContainerRegistryInfoComponentMode { aios third_party }
type ContainerRegistryInfo {
  containerImage: String!
  containerRegistryId: String!
  containerImageMetadata: JSON
  componentMode: EnumContainerRegistryInfoComponentMode!
  initContainer: JSON
}
type Component {
  _id: MongoID!
  createdAt: Date
  lastModifiedAt: Date
  componentId: ComponentId!
  componentType: String!
  componentURI: String!
  containerRegistryInfo: ContainerRegistryInfo
"""
    + _mixed_fields
    + """
  tags: [String]
}
type PaginationInfo {
  currentPage: Int!
  perPage: Int!
  pageCount: Int
  itemCount: Int
  hasNextPage: Boolean
  hasPreviousPage: Boolean
}
type ComponentPagination { count: Int, items: [Component!], pageInfo: PaginationInfo! }
input ComponentIdFilterInput { name: String version: String releaseTag: String }
input ContainerRegistryInfoFilterInput {
  containerImage: String
  containerRegistryId: String
  componentMode: EnumContainerRegistryInfoComponentMode
}
"""
    + "".join(_filter_input(name) for name in FILTER_TYPES)
    + "".join(f"enum {name} {{ {_sort_values} }}\n" for name in SORT_TYPES)
    + """
type Query {
  componentById(_id: MongoID!): Component
  componentByIds(_ids: [MongoID!]!, limit: Int = 100, sort: SortFindByIdsComponentInput): [Component!]!
  componentOne(filter: FilterFindOneComponentInput, skip: Int, sort: SortFindOneComponentInput): Component
  componentMany(filter: FilterFindManyComponentInput, skip: Int, limit: Int = 100, sort: SortFindManyComponentInput): [Component!]!
  componentCount(filter: FilterCountComponentInput): Int
  componentPagination(page: Int = 1, perPage: Int = 20, filter: FilterFindManyComponentInput, sort: SortFindManyComponentInput): ComponentPagination
}
"""
)

COST_MAP = {
    "Query": {
        "componentMany": {"complexity": 1, "multipliers": ["limit"]},
        "componentByIds": {"complexity": 1, "multipliers": ["limit"]},
        "componentPagination": {"complexity": 1, "multipliers": ["perPage"]},
    }
}

query = QueryType()
json_scalar = ScalarType("JSON", serializer=lambda v: v, value_parser=lambda v: v)
mongo_id = ScalarType("MongoID", serializer=str, value_parser=str)
date_scalar = ScalarType("Date", serializer=str, value_parser=str)
component_type = ObjectType("Component")
sort_enums = [
    EnumType(
        name,
        {
            f"{k}_{d}": f"{v}:{1 if d == 'ASC' else -1}"
            for k, v in SORTABLE.items()
            for d in ("ASC", "DESC")
        },
    )
    for name in SORT_TYPES
]


def _sort(value: str | None) -> list[tuple[str, int]]:
    """A sort enum's value (``field:direction``) as the sort the store takes."""
    if not value:
        return []
    field, direction = value.rsplit(":", 1)
    return [(field, int(direction))]


@query.field("componentById")
def resolve_by_id(*_: Any, _id: str) -> dict[str, Any] | None:
    return components.by_object_id(_id, store=components_graph_store())


@query.field("componentByIds")
def resolve_by_ids(*_: Any, _ids: list[str], limit: int = 100, sort: str | None = None) -> Any:
    return components.by_object_ids(
        _ids, store=components_graph_store(), sort=_sort(sort), limit=limit
    )


@query.field("componentOne")
def resolve_one(
    *_: Any, filter: Any = None, skip: int | None = None, sort: str | None = None
) -> Any:
    return components.find_one(filter, store=components_graph_store(), sort=_sort(sort), skip=skip)


@query.field("componentMany")
def resolve_many(
    *_: Any, filter: Any = None, skip: int | None = None, limit: int = 100, sort: str | None = None
) -> Any:
    return components.find_many(
        filter, store=components_graph_store(), sort=_sort(sort), skip=skip, limit=limit
    )


@query.field("componentCount")
def resolve_count(*_: Any, filter: Any = None) -> int:
    return components.count(filter, store=components_graph_store())


@query.field("componentPagination")
def resolve_pagination(
    *_: Any, page: int = 1, perPage: int = 20, filter: Any = None, sort: str | None = None
) -> dict[str, Any]:
    found = components.numbered_page(
        filter, store=components_graph_store(), number=page, per_page=perPage, sort=_sort(sort)
    )
    return {
        "count": found.count,
        "items": found.items,
        "pageInfo": {
            "currentPage": found.number,
            "perPage": found.per_page,
            "pageCount": found.page_count,
            "itemCount": found.count,
            "hasNextPage": found.number < found.page_count,
            "hasPreviousPage": found.number > 1,
        },
    }


@lru_cache(maxsize=1)
def components_schema() -> GraphQLSchema:
    return make_executable_schema(
        TYPE_DEFS, query, json_scalar, mongo_id, date_scalar, component_type, *sort_enums
    )
