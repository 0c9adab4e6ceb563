"""Spec 002's component registry: register, unregister, update, metadata, and queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from assets_core.collections import COMPONENTS
from assets_core.errors import AlreadyExists, InvalidInput, NotFound, where_and_why
from assets_core.filters import check_regex, validate_filter, validate_update
from assets_core.identity import SERVER_FIELDS, now_iso, without_server_fields
from assets_core.logic.revisions import Precondition, insert_new, modify
from assets_core.models.component import IDENTITY_FIELDS, SYSTEM_FIELDS, Component
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, Versioned

URI_FIELD = COMPONENTS.key_field
PROTECTED = (*IDENTITY_FIELDS, *SYSTEM_FIELDS, *SERVER_FIELDS)
# The GraphQL reads' bounds: at most this many components per answer, and a skip no deeper.
MAX_LIMIT = 1000
MAX_SKIP = 100_000
# Typed filter fields that hold an object of sub-fields, matched as dotted paths.
_NESTED_FIELDS = ("componentId", "containerRegistryInfo")

Sort = Sequence[tuple[str, int]]


def public(document: dict[str, Any]) -> dict[str, Any]:
    """A stored component as clients see it: dates (e.g. from $currentDate) as ISO strings."""
    return {key: _json_safe(value) for key, value in document.items()}


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _not_found(uri: str) -> NotFound:
    return NotFound(f"No component has componentURI '{uri}'.", code="COMPONENT_NOT_FOUND")


def register(component: Component, *, store: DocumentStore) -> dict[str, Any]:
    """Register a component under its generated URI; ``AlreadyExists`` when it is taken."""
    stamp = now_iso()
    document = {
        **component.model_dump(mode="json", exclude={"componentURI"}),
        URI_FIELD: component.uri,
        "createdAt": stamp,
        "lastModifiedAt": stamp,
    }
    taken = AlreadyExists(
        f"A component with componentURI '{component.uri}' already exists; "
        "update it, or register another version or release tag.",
        code="COMPONENT_EXISTS",
    )
    return public(insert_new(store, document, lambda: taken))


def unregister(uri: str, *, store: DocumentStore) -> dict[str, Any]:
    if not store.delete(uri):
        raise _not_found(uri)
    return {"success": True, "uri": uri, "deleted": True}


def get(uri: str, *, store: DocumentStore) -> dict[str, Any]:
    found = store.get(uri)
    if found is None:
        raise _not_found(uri)
    return public(found)


def update(
    uri: str,
    data: dict[str, Any],
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> Versioned:
    """Apply update operators; identity and system fields cannot change, ``lastModifiedAt``
    moves. The database computes the result on a scratch copy first; a result that is no
    longer a valid component is a 400 and the record is never touched. The valid result is
    written over the revision read (``If-Match`` when given), so no concurrent change is
    lost."""
    validate_update(data, protected=PROTECTED)
    stamped = {**data, "$set": {**data.get("$set", {}), "lastModifiedAt": now_iso()}}

    def write(current: Versioned) -> dict[str, Any]:
        after = store.preview_update(current.document, stamped)
        try:
            Component.model_validate(
                {
                    k: v
                    for k, v in without_server_fields(after).items()
                    if k not in ("createdAt", "lastModifiedAt", "_id")
                }
            )
        except ValidationError as exc:
            problem = where_and_why(exc.errors()[0], "component")
            raise InvalidInput(
                f"The update would make the component invalid ({problem}); nothing was changed."
            ) from exc
        if not store.replace(uri, after, revision=current.revision):
            raise _not_found(uri)
        return after

    document, revision = modify(
        store,
        uri,
        write,
        precondition=precondition,
        missing=lambda: _not_found(uri),
        what=f"The component '{uri}'",
    )
    return Versioned(public(document), revision)


def add_metadata(
    uri: str, metadata: Any, *, store: DocumentStore, precondition: Precondition | None = None
) -> Versioned:
    """Replace ``componentMetadata`` with an object."""
    if not isinstance(metadata, dict):
        raise InvalidInput("'data' must be a JSON object: it replaces componentMetadata.")
    validate_update({"$set": {"componentMetadata": metadata}}, protected=PROTECTED)
    return update(
        uri, {"$set": {"componentMetadata": metadata}}, store=store, precondition=precondition
    )


def update_metadata(
    uri: str,
    data: dict[str, Any],
    *,
    store: DocumentStore,
    precondition: Precondition | None = None,
) -> Versioned:
    """Update operators on ``componentMetadata``; paths may be written under ``metadata.``
    (as the spec's example does) or ``componentMetadata.``."""
    validate_update(data, protected=PROTECTED)
    rewritten: dict[str, Any] = {}
    for op, fields in data.items():
        rewritten[op] = {}
        for path, value in fields.items():
            head, _, rest = path.partition(".")
            if head not in ("metadata", "componentMetadata"):
                raise InvalidInput(
                    f"'{path}' is not under metadata: write paths as 'metadata.<field>' "
                    "or 'componentMetadata.<field>'."
                )
            rewritten[op]["componentMetadata" + (f".{rest}" if rest else "")] = value
    return update(uri, rewritten, store=store, precondition=precondition)


def by_type(type_string: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Components whose componentType matches a (bounded) regular expression."""
    check_regex(type_string)
    return _public_page(store.find_page({"componentType": {"$regex": type_string}}, page))


def by_uri(uri_string: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Components whose componentURI matches a (bounded) regular expression."""
    check_regex(uri_string)
    return _public_page(store.find_page({URI_FIELD: {"$regex": uri_string}}, page))


def query(filter_: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    """Components matching a MongoDB-style filter of the allowed operators."""
    return _public_page(store.find_page(validate_filter(filter_), page))


def _public_page(page: Page) -> Page:
    return Page(items=[public(item) for item in page.items], next_cursor=page.next_cursor)


def _public_list(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(document) for document in found]


# -- GraphQL's reads: graphql-compose-mongoose's resolvers over the collection with ``_id`` --


def typed_filter(filter_input: dict[str, Any] | None) -> dict[str, Any]:
    """A typed filter (nested fields, ``_operators``, ``AND``/``OR``) as a MongoDB filter,
    checked against the contract's operator list as REST's ``query`` filter is."""
    if not filter_input:
        return {}
    fields: dict[str, Any] = {}
    clauses: list[dict[str, Any]] = []
    for field, value in filter_input.items():
        if value is None:
            continue
        if field in ("AND", "OR"):
            clauses.append({f"${field.lower()}": [typed_filter(item) for item in value]})
        elif field == "_operators":
            clauses.append(_operators(value))
        else:
            fields.update(_field_condition(field, value))
    return validate_filter(_all_of(fields, clauses))


def _field_condition(field: str, value: Any) -> dict[str, Any]:
    if field in _NESTED_FIELDS and isinstance(value, dict):
        return {f"{field}.{sub}": item for sub, item in value.items() if item is not None}
    if field == "tags" and isinstance(value, list):
        return {"tags": {"$all": value}}
    return {field: value}


def _all_of(fields: dict[str, Any], clauses: list[dict[str, Any]]) -> dict[str, Any]:
    if not clauses:
        return fields
    if fields:
        return {"$and": [fields, *clauses]}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _operators(value: Any) -> dict[str, Any]:
    """``_operators``: per field path, operators written with or without their ``$``."""
    if not isinstance(value, dict):
        raise InvalidInput("_operators takes an object: {fieldPath: {operator: value}}.")
    query_: dict[str, Any] = {}
    for path, ops in value.items():
        if not isinstance(ops, dict):
            raise InvalidInput(f"_operators.{path} takes an object of operators.")
        query_[path] = {(op if op.startswith("$") else f"${op}"): arg for op, arg in ops.items()}
    return query_


def _bounded(value: int | None, name: str, high: int, default: int) -> int:
    if value is None:
        return default
    if not 0 <= value <= high:
        raise InvalidInput(f"'{name}' must be between 0 and {high}.")
    return value


def by_object_id(object_id: str, *, store: DocumentStore) -> dict[str, Any] | None:
    """The component with this MongoDB ``_id``, or None."""
    found = store.find({"_id": object_id}, limit=1)
    return public(found[0]) if found else None


def by_object_ids(
    object_ids: list[str], *, store: DocumentStore, sort: Sort = (), limit: int | None = 100
) -> list[dict[str, Any]]:
    """The components with these MongoDB ``_id`` values, at most ``limit``."""
    bounded = _bounded(limit, "limit", MAX_LIMIT, 100)
    return _public_list(store.find({"_id": {"$in": object_ids}}, sort=sort, limit=bounded))


def find_one(
    filter_input: dict[str, Any] | None,
    *,
    store: DocumentStore,
    sort: Sort = (),
    skip: int | None = None,
) -> dict[str, Any] | None:
    """The first component matching a typed filter, after ``skip``, or None."""
    found = store.find(
        typed_filter(filter_input), sort=sort, skip=_bounded(skip, "skip", MAX_SKIP, 0), limit=1
    )
    return public(found[0]) if found else None


def find_many(
    filter_input: dict[str, Any] | None,
    *,
    store: DocumentStore,
    sort: Sort = (),
    skip: int | None = None,
    limit: int | None = 100,
) -> list[dict[str, Any]]:
    """Components matching a typed filter: at most ``limit`` (0: the most allowed)."""
    return _public_list(
        store.find(
            typed_filter(filter_input),
            sort=sort,
            skip=_bounded(skip, "skip", MAX_SKIP, 0),
            limit=_bounded(limit, "limit", MAX_LIMIT, 100) or MAX_LIMIT,
        )
    )


def count(filter_input: dict[str, Any] | None, *, store: DocumentStore) -> int:
    """How many components match a typed filter."""
    return store.count(typed_filter(filter_input))


@dataclass(frozen=True)
class NumberedPage:
    """One numbered page of components and the count of all that match."""

    items: list[dict[str, Any]]
    count: int
    number: int
    per_page: int

    @property
    def page_count(self) -> int:
        return -(-self.count // self.per_page)


def numbered_page(
    filter_input: dict[str, Any] | None,
    *,
    store: DocumentStore,
    number: int = 1,
    per_page: int | None = 20,
    sort: Sort = (),
) -> NumberedPage:
    """Page ``number`` (from 1) of the components matching a typed filter, ``per_page``
    each (0: the default); the page may start no deeper than the skip allowed."""
    if number < 1:
        raise InvalidInput("'page' starts at 1.")
    size = _bounded(per_page, "perPage", MAX_LIMIT, 20) or 20
    skip = (number - 1) * size
    _bounded(skip, "page * perPage", MAX_SKIP, 0)
    condition = typed_filter(filter_input)
    total = store.count(condition)
    items = _public_list(store.find(condition, sort=sort, skip=skip, limit=size))
    return NumberedPage(items=items, count=total, number=number, per_page=size)
