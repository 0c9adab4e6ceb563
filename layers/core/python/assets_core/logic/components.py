"""Spec 002's component registry: register, unregister, update, metadata, and queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from assets_core.collections import COMPONENTS
from assets_core.errors import AlreadyExists, InvalidInput, NotFound, where_and_why
from assets_core.filters import check_regex, validate_filter, validate_update
from assets_core.logic.revisions import Precondition, insert_new, modify
from assets_core.models.component import IDENTITY_FIELDS, SYSTEM_FIELDS, Component
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, Versioned

URI_FIELD = COMPONENTS.key_field
PROTECTED = (*IDENTITY_FIELDS, *SYSTEM_FIELDS)


def now() -> str:
    """System timestamps: ISO-8601 in UTC, so they sort and compare as strings in filters."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    stamp = now()
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
    stamped = {**data, "$set": {**data.get("$set", {}), "lastModifiedAt": now()}}

    def write(current: Versioned) -> dict[str, Any]:
        after = store.preview_update(current.document, stamped)
        try:
            Component.model_validate(
                {k: v for k, v in after.items() if k not in ("createdAt", "lastModifiedAt", "_id")}
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
