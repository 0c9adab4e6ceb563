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

import re
from collections.abc import Iterable
from typing import Any

from pymongo import ReturnDocument

from assets_core.stores.documents import MongoDocumentStore, session

MAX_KEYS_PER_QUERY = 500


class MongoBlobStore:
    """A ``BlobStore`` on the blobs collection, through a document store's error mapping."""

    def __init__(self, documents: MongoDocumentStore) -> None:
        self.documents = documents
        self.collection = documents.collection

    def reference(self, sha256: str, key: str, size: int, ref: str) -> str:
        """Record that ``ref`` holds this content, written at ``key`` if no record has it
        yet; the key of the object that holds it (``key``, or the one stored before)."""
        self.documents._writable()
        found: dict[str, Any] = self.documents._run(
            lambda: self.collection.find_one_and_update(
                {"sha256": sha256},
                {"$setOnInsert": {"key": key, "size": size}, "$addToSet": {"refs": ref}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                projection={"_id": 0, "key": 1},
                session=session(),
            )
        )
        return str(found["key"])

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
