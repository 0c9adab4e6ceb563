"""Content references recorded in batches, on both document backends (the wire server of
the tests and mongomock): a thousand files take a few requests, a content named twice is
recorded once, content stored before keeps its object, and two ingests recording the same
new content at once both end holding the one record."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from assets_core.errors import AppError
from assets_core.stores.blobs import MongoBlobStore
from tests.unit.test_document_store import StoreFactory, collection_store  # noqa: F401


def digest(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def blobs(collection_store: StoreFactory) -> MongoBlobStore:  # noqa: F811
    documents = collection_store("blobs", key_field="sha256")
    documents.ensure_indexes(["key", "refs"])
    return MongoBlobStore(documents)


class Counting:
    """Counts the collection's requests by method."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.collection, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return call


def test_a_thousand_contents_take_a_few_requests(blobs: MongoBlobStore) -> None:
    contents = [(digest(n), f"assets/a/{n}", n) for n in range(1_200)]
    counting = Counting(blobs.collection)
    blobs.collection = counting  # type: ignore[assignment]
    holders = blobs.reference(contents, "ref-1")
    assert holders == {sha256: key for sha256, key, _ in contents}
    # Batches of 500: three bulk writes and three reads, not 1,200 of each (mongomock, which
    # cannot take pymongo's bulk operations, is written one upsert at a time).
    writes = {"update_one": 1_200} if blobs.documents.emulated else {"bulk_write": 3}
    assert counting.calls == {**writes, "find": 3}
    blobs.collection = counting.collection
    record = blobs.get(digest(7))
    assert record is not None
    assert (record["key"], record["size"], record["refs"]) == ("assets/a/7", 7, ["ref-1"])


def test_stored_content_keeps_its_object_and_gains_the_reference(blobs: MongoBlobStore) -> None:
    blobs.reference([(digest(1), "assets/old/1", 10)], "ref-old")
    holders = blobs.reference(
        [(digest(1), "assets/new/1", 10), (digest(2), "assets/new/2", 5)], "ref-new"
    )
    assert holders == {digest(1): "assets/old/1", digest(2): "assets/new/2"}
    record = blobs.get(digest(1))
    assert record is not None
    assert sorted(record["refs"]) == ["ref-new", "ref-old"]
    assert blobs.holding("ref-new") == sorted([digest(1), digest(2)])


def test_content_named_twice_is_recorded_once_at_its_first_key(blobs: MongoBlobStore) -> None:
    holders = blobs.reference(
        [(digest(3), "assets/a/first", 4), (digest(3), "assets/a/second", 4)], "ref-1"
    )
    assert holders == {digest(3): "assets/a/first"}
    assert blobs.collection.count_documents({}) == 1


def test_recording_again_changes_nothing(blobs: MongoBlobStore) -> None:
    contents = [(digest(n), f"assets/a/{n}", n) for n in range(3)]
    first = blobs.reference(contents, "ref-1")
    assert blobs.reference(contents, "ref-1") == first
    record = blobs.get(digest(0))
    assert record is not None
    assert record["refs"] == ["ref-1"]


def test_no_contents_is_no_request(blobs: MongoBlobStore) -> None:
    counting = Counting(blobs.collection)
    blobs.collection = counting  # type: ignore[assignment]
    assert blobs.reference([], "ref-1") == {}
    assert counting.calls == {}


def test_a_concurrent_insert_of_the_same_content_is_written_again(
    blobs: MongoBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another ingest inserted the content between this one's upsert deciding to insert and
    inserting (the unique index refuses the second insert): written again, it finds it."""
    if blobs.documents.emulated:
        pytest.skip("mongomock is written one upsert at a time, without bulk writes")
    blobs.reference([(digest(5), "assets/other/5", 1)], "ref-other")
    real = blobs.collection.bulk_write
    failures = [BulkWriteError({"writeErrors": [{"code": 11000, "index": 0}]})]

    def racing(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(blobs.collection, "bulk_write", racing)
    holders = blobs.reference([(digest(5), "assets/mine/5", 1)], "ref-mine")
    assert holders == {digest(5): "assets/other/5"}
    record = blobs.get(digest(5))
    assert record is not None
    assert sorted(record["refs"]) == ["ref-mine", "ref-other"]


def test_other_write_errors_are_not_retried(
    blobs: MongoBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if blobs.documents.emulated:
        pytest.skip("mongomock is written one upsert at a time, without bulk writes")
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise BulkWriteError({"writeErrors": [{"code": 2, "index": 0, "errmsg": "bad"}]})

    monkeypatch.setattr(blobs.collection, "bulk_write", failing)
    with pytest.raises(AppError):
        blobs.reference([(digest(6), "assets/a/6", 1)], "ref-1")
    assert calls == [1]
