"""Spec 002's read-only GraphQL: the query resolvers graphql-compose-mongoose generates for the
Component model (componentById, componentByIds, componentOne, componentMany, componentCount,
componentPagination), with typed filters, ``_operators``, sort enums and JSON Mixed fields."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ariadne import EnumType, ObjectType, QueryType, ScalarType, make_executable_schema
from ariadne.types import GraphQLSchema

from assets_core.errors import InvalidInput
from assets_core.filters import validate_filter
from assets_core.logic.components import public
from assets_core.models.component import MIXED_FIELDS
from assets_core.stores.registry import components_graph_store

MAX_LIMIT = 1000
MAX_SKIP = 100_000
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


def to_query(filter_input: dict[str, Any] | None) -> dict[str, Any]:
    """A typed filter (nested fields, ``_operators``, ``AND``/``OR``) as a MongoDB filter,
    checked against the contract's operator list."""
    if not filter_input:
        return {}
    result: dict[str, Any] = {}
    clauses: list[dict[str, Any]] = []
    for field, value in filter_input.items():
        if value is None:
            continue
        if field in ("AND", "OR"):
            clauses.append({f"${field.lower()}": [to_query(item) for item in value]})
        elif field == "_operators":
            clauses.append(_operators(value))
        elif field in ("componentId", "containerRegistryInfo") and isinstance(value, dict):
            for sub, sub_value in value.items():
                if sub_value is not None:
                    result[f"{field}.{sub}"] = sub_value
        elif field == "tags" and isinstance(value, list):
            result["tags"] = {"$all": value}
        else:
            result[field] = value
    if clauses:
        result = (
            {"$and": [result, *clauses]}
            if result
            else (clauses[0] if len(clauses) == 1 else {"$and": clauses})
        )
    validate_filter(result)
    return result


def _operators(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("_operators takes an object: {fieldPath: {operator: value}}.")
    query_: dict[str, Any] = {}
    for path, ops in value.items():
        if not isinstance(ops, dict):
            raise InvalidInput(f"_operators.{path} takes an object of operators.")
        query_[path] = {(op if op.startswith("$") else f"${op}"): arg for op, arg in ops.items()}
    return query_


def _sort(value: str | None) -> list[tuple[str, int]]:
    if not value:
        return []
    field, direction = value.rsplit(":", 1)
    return [(field, int(direction))]


def _bounded(value: int | None, name: str, high: int, default: int) -> int:
    if value is None:
        return default
    if not 0 <= value <= high:
        raise InvalidInput(f"'{name}' must be between 0 and {high}.")
    return value


def _documents(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(document) for document in found]


@query.field("componentById")
def resolve_by_id(*_: Any, _id: str) -> dict[str, Any] | None:
    found = components_graph_store().find({"_id": _id}, limit=1)
    return _documents(found)[0] if found else None


@query.field("componentByIds")
def resolve_by_ids(*_: Any, _ids: list[str], limit: int = 100, sort: str | None = None) -> Any:
    limit = _bounded(limit, "limit", MAX_LIMIT, 100)
    store = components_graph_store()
    return _documents(store.find({"_id": {"$in": _ids}}, sort=_sort(sort), limit=limit))


@query.field("componentOne")
def resolve_one(
    *_: Any, filter: Any = None, skip: int | None = None, sort: str | None = None
) -> Any:
    found = components_graph_store().find(
        to_query(filter), sort=_sort(sort), skip=_bounded(skip, "skip", MAX_SKIP, 0), limit=1
    )
    return _documents(found)[0] if found else None


@query.field("componentMany")
def resolve_many(
    *_: Any, filter: Any = None, skip: int | None = None, limit: int = 100, sort: str | None = None
) -> Any:
    return _documents(
        components_graph_store().find(
            to_query(filter),
            sort=_sort(sort),
            skip=_bounded(skip, "skip", MAX_SKIP, 0),
            limit=_bounded(limit, "limit", MAX_LIMIT, 100) or MAX_LIMIT,
        )
    )


@query.field("componentCount")
def resolve_count(*_: Any, filter: Any = None) -> int:
    return components_graph_store().count(to_query(filter))


@query.field("componentPagination")
def resolve_pagination(
    *_: Any, page: int = 1, perPage: int = 20, filter: Any = None, sort: str | None = None
) -> dict[str, Any]:
    if page < 1:
        raise InvalidInput("'page' starts at 1.")
    per_page = _bounded(perPage, "perPage", MAX_LIMIT, 20) or 20
    skip = (page - 1) * per_page
    _bounded(skip, "page * perPage", MAX_SKIP, 0)
    store = components_graph_store()
    condition = to_query(filter)
    count = store.count(condition)
    items = _documents(store.find(condition, sort=_sort(sort), skip=skip, limit=per_page))
    pages = -(-count // per_page)
    return {
        "count": count,
        "items": items,
        "pageInfo": {
            "currentPage": page,
            "perPage": per_page,
            "pageCount": pages,
            "itemCount": count,
            "hasNextPage": page < pages,
            "hasPreviousPage": page > 1,
        },
    }


@lru_cache(maxsize=1)
def components_schema() -> GraphQLSchema:
    return make_executable_schema(
        TYPE_DEFS, query, json_scalar, mongo_id, date_scalar, component_type, *sort_enums
    )
