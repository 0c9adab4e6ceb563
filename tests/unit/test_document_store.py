"""The document store on mongomock: keyset pages, duplicate keys, and bounded regexes."""

from __future__ import annotations

import time

import pytest

from assets_core.errors import AlreadyExists, QueryTimeout
from assets_core.pagination import PageRequest
from assets_core.stores.documents import collection_store


def test_pages_walk_every_document_once_in_key_order() -> None:
    store = collection_store("things", key_field="key")
    store.ensure_indexes(["kind"])
    for n in range(25):
        store.insert({"key": f"k{n:03d}", "kind": "a" if n % 2 else "b"})
    seen: list[str] = []
    page = PageRequest(limit=10)
    while True:
        result = store.find_page({}, page)
        seen += [item["key"] for item in result.items]
        assert all("_id" not in item for item in result.items)
        if result.next_cursor is None:
            break
        page = PageRequest.parse(10, result.next_cursor)
    assert seen == [f"k{n:03d}" for n in range(25)]
    assert store.count({"kind": "a"}) == 12


def test_duplicate_key_is_already_exists() -> None:
    store = collection_store("things", key_field="key")
    store.ensure_indexes([])
    store.insert({"key": "one"})
    with pytest.raises(AlreadyExists):
        store.insert({"key": "one"})
    assert store.count({}) == 1


def test_slow_regex_is_stopped_by_the_query_time_limit() -> None:
    """The store's second line of defence: a backtracking pattern that reached it (the filter
    validator refuses this one) is stopped at the query's time limit, not run to the end."""
    store = collection_store("things", key_field="key")
    store.max_time_ms = 300
    store.insert({"key": "long", "text": "," * 400})
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="300 ms"):
        store.find_page({"text": {"$regex": "(.*,){20}x"}}, PageRequest())
    assert time.monotonic() - started < 3


def test_regex_options_apply_on_the_emulated_store() -> None:
    store = collection_store("things", key_field="key")
    store.insert({"key": "A", "name": "Llama"})
    found = store.find_page({"name": {"$regex": "^llama$", "$options": "i"}}, PageRequest())
    assert [item["key"] for item in found.items] == ["A"]
