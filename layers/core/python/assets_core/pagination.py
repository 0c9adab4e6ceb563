"""Keyset pagination: an opaque cursor holds the last key a page returned."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assets_core.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A page's items, as JSON, stay under this: a Lambda response is at most 6 MB (API Gateway's
# buffered limit too), and the body travels JSON-encoded inside it, escapes and all.
PAGE_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for: at most ``limit`` items after the key in ``after``."""

    limit: int = DEFAULT_LIMIT
    after: str | None = None

    @classmethod
    def parse(cls, limit: int | str | None, cursor: str | None) -> PageRequest:
        """Build a page request from the ``limit`` and ``cursor`` query parameters."""
        if limit is None or limit == "":
            size = DEFAULT_LIMIT
        else:
            try:
                size = int(limit)
            except (TypeError, ValueError):
                raise InvalidInput(f"'limit' must be a whole number, not {limit!r}.") from None
            if not 1 <= size <= MAX_LIMIT:
                raise InvalidInput(f"'limit' must be between 1 and {MAX_LIMIT}.")
        return cls(limit=size, after=decode_cursor(cursor) if cursor else None)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def body(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def json_size(document: Any) -> int:
    """How many bytes a document takes in a JSON response (values JSON cannot hold as text)."""
    return len(json.dumps(document, default=str, separators=(",", ":")).encode())


def take_page(
    documents: Iterable[dict[str, Any]],
    limit: int,
    key_field: str,
    max_bytes: int = PAGE_MAX_BYTES,
) -> Page:
    """A page of at most ``limit`` documents and ``max_bytes`` of JSON (always at least one
    document), read lazily from ``documents`` in key order; ``next_cursor`` continues after
    the last one taken, whichever bound stopped the page."""
    items: list[dict[str, Any]] = []
    used = 0
    more = False
    for document in documents:
        if len(items) == limit:
            more = True
            break
        size = json_size(document)
        if items and used + size > max_bytes:
            more = True
            break
        items.append(document)
        used += size
    next_cursor = encode_cursor(str(items[-1][key_field])) if more and items else None
    return Page(items=items, next_cursor=next_cursor)


def encode_cursor(last_key: str) -> str:
    raw = json.dumps({"k": last_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = data["k"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput(
            "'cursor' is not a cursor this service issued; pass next_cursor unchanged."
        ) from None
    if not isinstance(key, str):
        raise InvalidInput("'cursor' is not a cursor this service issued.")
    return key
