"""A function that connects as the read-only database user (routes.READ_ONLY) creates no
indexes and its stores refuse every write before the database would."""

from __future__ import annotations

from typing import Any

import mongomock
import pytest

from assets_core.routes import API_GROUPS, DOWNLOAD, INGEST, JANITOR, READ_ONLY
from assets_core.stores.documents import MongoDocumentStore, ReadOnlyStore


def store(read_only: bool) -> MongoDocumentStore:
    collection: Any = mongomock.MongoClient()["assets"]["things"]
    return MongoDocumentStore(
        collection, key_field="key", max_time_ms=1000, emulated=True, read_only=read_only
    )


def test_the_read_only_store_reads_and_refuses_every_write() -> None:
    writer = store(read_only=False)
    writer.insert({"key": "a", "n": 1})
    reader = MongoDocumentStore(
        writer.collection, key_field="key", max_time_ms=1000, emulated=True, read_only=True
    )
    assert reader.get("a") == {"key": "a", "n": 1}
    writes = [
        lambda: reader.insert({"key": "b"}),
        lambda: reader.replace("a", {"key": "a", "n": 2}, revision=1),
        lambda: reader.update("a", {"$set": {"n": 3}}),
        lambda: reader.preview_update({"key": "a"}, {"$set": {"n": 3}}),
        lambda: reader.delete("a"),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyStore, match="read-only database user"):
            write()
    assert writer.get("a") == {"key": "a", "n": 1}


def test_the_read_only_store_leaves_indexes_to_the_writers() -> None:
    reader = store(read_only=True)
    reader.ensure_indexes(["n"], unique=["u"])
    assert reader.collection.index_information() == {}
    writer = store(read_only=False)
    writer.ensure_indexes(["n"])
    assert "n_1" in writer.collection.index_information()


def test_only_the_functions_that_never_write_are_read_only() -> None:
    read_only = {g.name for g in API_GROUPS if g.database == READ_ONLY}
    read_only |= {f.name for f in (INGEST, JANITOR, DOWNLOAD) if f.database == READ_ONLY}
    assert read_only == {"registry_query", "registry_graphql", "registry_download"}
