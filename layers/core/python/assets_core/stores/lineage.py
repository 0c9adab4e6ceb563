"""The lineage collection (``logic/lineage.py``): edge documents, and the graph's counter
that every edge write steps in its transaction."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from assets_core.collections import LINEAGE
from assets_core.errors import AlreadyExists
from assets_core.stores.audit import write_conflict
from assets_core.stores.documents import MongoDocumentStore, collection_store, session


class MongoEdgeStore(MongoDocumentStore):
    """A document store on the lineage collection with the graph's counter."""

    def step(self, key: str) -> int:
        """Step the counter document ``key`` (created at 1): two transactions that step it
        at once conflict, and the second runs again after the first."""
        self._writable()
        try:
            found: dict[str, Any] = self._run(
                lambda: self.collection.find_one_and_update(
                    {self.key_field: key},
                    {"$inc": {"steps": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    projection={"_id": 0, "steps": 1},
                    session=session(),
                )
            )
        except AlreadyExists:  # a concurrent first step: run again after it
            raise write_conflict() from None
        return int(found["steps"])


def edge_store() -> MongoEdgeStore:
    """The lineage collection, with its indexes."""
    plain = collection_store(LINEAGE.name, key_field=LINEAGE.key_field)
    store = MongoEdgeStore(
        plain.collection,
        key_field=LINEAGE.key_field,
        max_time_ms=plain.max_time_ms,
        emulated=plain.emulated,
        read_only=plain.read_only,
    )
    store.ensure_indexes(LINEAGE.indexed, unique=LINEAGE.unique)
    return store
