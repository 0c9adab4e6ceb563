"""A function that connects as the read-only database user (routes.READ_ONLY) creates no
indexes and its stores refuse every write before the database would."""

from __future__ import annotations

from typing import Any

import mongomock
import pytest

from assets_core.routes import (
    API_GROUPS,
    ARCHIVE_BUILDER,
    DOWNLOAD,
    INGEST,
    JANITOR,
    NO_DATABASE,
    READ_ONLY,
)
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
    assert read_only == {"registry_query", "registry_graphql"}
    # the stream and the archive builder read only the object store, outside the VPC
    for spec in (DOWNLOAD, ARCHIVE_BUILDER):
        assert (spec.database, spec.in_vpc) == (NO_DATABASE, False)


def test_within_a_read_only_call_every_store_refuses_writes() -> None:
    from assets_core.stores.documents import read_only_calls

    writer = store(read_only=False)
    with read_only_calls(True):
        with pytest.raises(ReadOnlyStore):
            writer.insert({"key": "a"})
        writer.ensure_indexes(["n"])  # built once per process: a writer may share it
    with read_only_calls(False):
        writer.insert({"key": "a"})
    assert writer.get("a") == {"key": "a"}


def test_the_read_only_functions_run_their_routes_as_read_only_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets_core.api import registry_query
    from assets_core.stores.factory import assets_store
    from functions.registry_query.handler import handler
    from tests.support import event, invoke

    def list_and_write(*args: Any, **kwargs: Any) -> Any:
        assets_store().insert({"asset_id": "written-by-a-reader"})
        raise AssertionError("the write went through")

    monkeypatch.setattr(registry_query.assets, "list_all", list_and_write)
    status, _ = invoke(handler, event("apigw_registry_list_assets"))
    assert status == 500  # a bug in the function, refused before the database
    assert assets_store().get("written-by-a-reader") is None
