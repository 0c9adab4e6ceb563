"""Content stored once: the MongoDB adapter of ``ports.BlobStore``.

One record per sha256: ``{"sha256", "key", "size", "refs": [ref, ...]}``. A reference is
added (``$addToSet``) before the version that holds the content is committed, and released
(``$pull``) only after that version is gone, so a live version never names content without a
reference to it; both are idempotent, so a run repeated after a crash changes nothing twice.
A record leaves only by one conditional delete of a record with no reference left, and every
write of content uses a key of its own, so content referenced again at the moment it is
collected gets a new record and object and never loses the one it was written to.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from assets_core.errors import AppError, StoreUnavailable
from assets_core.stores.documents import MongoDocumentStore, session

MAX_KEYS_PER_QUERY = 500
DUPLICATE_KEY = 11000
# One upsert: the record it finds (or inserts) and the update it makes.
Upsert = tuple[dict[str, Any], dict[str, Any]]


class MongoBlobStore:
    """A ``BlobStore`` on the blobs collection, through a document store's error mapping."""

    def __init__(self, documents: MongoDocumentStore) -> None:
        self.documents = documents
        self.collection = documents.collection

    def reference(self, contents: Sequence[tuple[str, str, int]], ref: str) -> dict[str, str]:
        """Record that ``ref`` holds each content (sha256, key, size), written at its key if
        no record has it yet; the key of the object that holds each (its key, or the one
        stored before), by sha256. A content named twice is recorded once, at its first key.
        Batches of upserts, each followed by one read of the holders' keys: a few requests
        for a thousand files, not one each. The upserts are idempotent, and a reference once
        added keeps its record from being collected, so the read finds every record."""
        self.documents._writable()
        first: dict[str, tuple[str, int]] = {}
        for sha256, key, size in contents:
            first.setdefault(sha256, (key, size))
        items = sorted(first.items())
        holders: dict[str, str] = {}
        for start in range(0, len(items), MAX_KEYS_PER_QUERY):
            batch = items[start : start + MAX_KEYS_PER_QUERY]
            self._upsert(
                [
                    (
                        {"sha256": sha256},
                        {"$setOnInsert": {"key": key, "size": size}, "$addToSet": {"refs": ref}},
                    )
                    for sha256, (key, size) in batch
                ]
            )
            wanted = [sha256 for sha256, _ in batch]
            found: list[dict[str, Any]] = self.documents._run(
                functools.partial(self._holders, wanted)
            )
            holders.update({str(record["sha256"]): str(record["key"]) for record in found})
        missing = sorted(set(first) - set(holders))
        if missing:  # not possible while references are only added before being read
            raise StoreUnavailable(f"content records not found after recording them: {missing[:3]}")
        return holders

    def _holders(self, wanted: list[str]) -> list[dict[str, Any]]:
        return list(
            self.collection.find(
                {"sha256": {"$in": wanted}},
                projection={"_id": 0, "sha256": 1, "key": 1},
                session=session(),
            )
        )

    def _bulk_write(self, upserts: list[Upsert]) -> None:
        if self.documents.emulated:  # mongomock's bulk_write cannot take pymongo 4's UpdateOne
            for query, update in upserts:
                self.collection.update_one(query, update, upsert=True, session=session())
            return
        operations = [UpdateOne(query, update, upsert=True) for query, update in upserts]
        self.collection.bulk_write(operations, ordered=True, session=session())

    def _upsert(self, upserts: list[Upsert], attempts: int = 3) -> None:
        """One ordered bulk write of idempotent upserts. Two upserts of the same new content
        at once can both try to insert it and one fails on the unique index; written again,
        it finds the record the other inserted."""
        for attempt in range(attempts):
            try:
                self.documents._run(functools.partial(self._bulk_write, upserts))
                return
            except AppError as exc:
                cause = exc.__cause__
                duplicate = isinstance(cause, BulkWriteError) and all(
                    error.get("code") == DUPLICATE_KEY
                    for error in cause.details.get("writeErrors", [])
                )
                if not duplicate or attempt == attempts - 1:
                    raise

    def release(self, sha256: str, ref: str) -> None:
        """``ref`` no longer holds this content (nothing when it did not)."""
        self.documents._writable()
        self.documents._run(
            lambda: self.collection.update_one(
                {"sha256": sha256}, {"$pull": {"refs": ref}}, session=session()
            )
        )

    def collect(self, sha256: str) -> str | None:
        """Remove the content's record if no reference holds it; the key of its object, for
        the caller to delete, or None when it is still held (or was never recorded)."""
        self.documents._writable()
        removed: dict[str, Any] | None = self.documents._run(
            lambda: self.collection.find_one_and_delete(
                {"sha256": sha256, "refs": {"$size": 0}},
                projection={"_id": 0, "key": 1},
                session=session(),
            )
        )
        return None if removed is None else str(removed["key"])

    def get(self, sha256: str) -> dict[str, Any] | None:
        """The content's record, or None."""
        return self.documents.get(sha256)

    def get_many(self, sha256s: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The records of these contents that exist, by sha256 (batches of ``$in``)."""
        wanted = sorted(set(sha256s))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), MAX_KEYS_PER_QUERY):
            batch = wanted[start : start + MAX_KEYS_PER_QUERY]
            for item in self.documents.find({"sha256": {"$in": batch}}, limit=len(batch)):
                found[str(item["sha256"])] = item
        return found

    def keys_in_use(self, keys: Iterable[str]) -> set[str]:
        """Which of these object keys a record names."""
        wanted = sorted(set(keys))
        used: set[str] = set()
        for start in range(0, len(wanted), MAX_KEYS_PER_QUERY):
            batch = wanted[start : start + MAX_KEYS_PER_QUERY]
            found = self.documents.find({"key": {"$in": batch}}, limit=len(batch))
            used.update(str(item["key"]) for item in found)
        return used

    def holding(self, ref: str) -> list[str]:
        """The sha256 of every content ``ref`` holds."""
        found = self.documents.find({"refs": ref}, limit=1_000_000)
        return [str(item["sha256"]) for item in found]

    def holds_under(self, prefix: str) -> bool:
        """Whether a record's object is stored under this key prefix."""
        return bool(self.documents.find({"key": {"$regex": "^" + re.escape(prefix)}}, limit=1))
